/**
 * The issuer configuration schema as an operator meets it: defaults, strictness, secure URLs only,
 * no symmetric or unsigned algorithms, bounded clock skew, the tenant source, and the JSON env form with
 * messages that name the field at fault.
 */
import { describe, expect, it } from 'vitest';
import { insecureUrlReason, JwtIssuerConfig, JwtIssuersFromJson } from '../src/index';

const minimal = { issuer: 'https://id.example.com/realms/acme', tenant: { fixed: 'acme' } };

/** The messages of a failed parse, as `path: message` lines. */
function problems(input: unknown): string[] {
  const parsed = JwtIssuerConfig.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('JwtIssuerConfig', () => {
  it('fills in the defaults', () => {
    expect(JwtIssuerConfig.parse(minimal)).toEqual({
      ...minimal,
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      clockToleranceS: 30,
      principalClaim: 'sub',
      defaultRoles: ['agent'],
      grantableRoles: ['admin', 'auditor', 'agent'],
      kind: 'user',
    });
  });

  it('accepts a full configuration with a nested claim path', () => {
    const full = {
      ...minimal,
      jwksUri: 'https://id.example.com/keys',
      audience: 'meshgate',
      algorithms: ['PS256'],
      clockToleranceS: 300,
      tenant: { claim: ['org', 'tenant'] },
      principalClaim: 'email',
      rolesClaim: ['realm_access', 'roles'],
      groupsClaim: 'groups',
      kind: 'agent',
      requiredScopes: ['mcp:tools'],
    };
    expect(JwtIssuerConfig.parse(full)).toMatchObject(full);
  });

  it.each([
    ['an unknown field', { ...minimal, audiance: 'x' }, /audiance/],
    ['http off loopback', { ...minimal, issuer: 'http://id.example.com' }, /^issuer: must use https/],
    ['an issuer with a query', { ...minimal, issuer: 'https://id.example.com?x=1' }, /^issuer: .*query/],
    ['an issuer with a fragment', { ...minimal, issuer: 'https://id.example.com#x' }, /^issuer: .*fragment/],
    ['a relative jwksUri', { ...minimal, jwksUri: '/keys' }, /^jwksUri: must be an absolute URL/],
    [
      'credentials in a URL',
      { ...minimal, jwksUri: 'https://u:p@id.example.com/k' },
      /^jwksUri: .*credentials/,
    ],
    ['HS256', { ...minimal, algorithms: ['HS256'] }, /^algorithms\.0:/],
    ['none', { ...minimal, algorithms: ['none'] }, /^algorithms\.0:/],
    ['no algorithm', { ...minimal, algorithms: [] }, /^algorithms:/],
    ['a tolerance over 300 s', { ...minimal, clockToleranceS: 301 }, /^clockToleranceS:/],
    ['a fractional tolerance', { ...minimal, clockToleranceS: 1.5 }, /^clockToleranceS:/],
    ['a missing tenant', { issuer: minimal.issuer }, /^tenant: tenant must be/],
    [
      'a tenant with both forms',
      { ...minimal, tenant: { fixed: 'a', claim: 'b' } },
      /^tenant: tenant must be/,
    ],
    ['an invalid fixed tenant', { ...minimal, tenant: { fixed: 'ACME' } }, /^tenant\.fixed: lower-case/],
    ['an empty claim name', { ...minimal, principalClaim: '' }, /^principalClaim:/],
    ['an unknown kind', { ...minimal, kind: 'robot' }, /^kind:/],
    ['an unknown default role', { ...minimal, defaultRoles: ['root'] }, /^defaultRoles\.0:/],
    ['a scope with a space', { ...minimal, requiredScopes: ['a b'] }, /^requiredScopes\.0:/],
  ])('refuses %s with a message naming the field', (_name, input, message) => {
    const found = problems(input);
    expect(found.some((line) => message.test(line))).toBe(true);
  });

  it('allows http on loopback only', () => {
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000'])
      expect(problems({ ...minimal, issuer: `http://${host}/idp` })).toEqual([]);
    for (const url of [
      'http://10.0.0.1',
      'http://127.0.0.1.nip.io',
      'ftp://id.example.com',
      'file:///etc/passwd',
    ])
      expect(insecureUrlReason(url)).not.toBeNull();
  });
});

describe('JwtIssuersFromJson', () => {
  it('parses a JSON array of issuers', () => {
    expect(JwtIssuersFromJson.parse(JSON.stringify([minimal]))).toHaveLength(1);
    expect(JwtIssuersFromJson.parse('[]')).toEqual([]);
  });

  it('refuses text that is not JSON, a non-array, and duplicate issuers, saying why', () => {
    expect(JwtIssuersFromJson.safeParse('{oops').error?.issues[0]?.message).toBe(
      'must be a JSON array of issuer objects',
    );
    expect(JwtIssuersFromJson.safeParse(JSON.stringify(minimal)).success).toBe(false);
    const twice = JwtIssuersFromJson.safeParse(JSON.stringify([minimal, minimal]));
    expect(twice.error?.issues[0]?.message).toBe('each issuer may be configured only once');
  });

  it('names the index and field of a bad entry', () => {
    const bad = JwtIssuersFromJson.safeParse(
      JSON.stringify([minimal, { ...minimal, issuer: 'x', tenant: 1 }]),
    );
    const paths = bad.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['1.issuer', '1.tenant']));
  });
});
