/**
 * Claims to principal and scopes, without I/O: principal and tenant claims (fixed, claimed, nested),
 * roles (known kept, unknown dropped, platform-admin only when grantable, defaults), groups (valid,
 * duplicate, invalid, too many), scope and scp in their shapes, and the required-scope check.
 */
import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  claimAt,
  JwtIssuerConfig,
  missingScopes,
  principalFromClaims,
  scopesFromClaims,
  type JwtIssuerInput,
} from '../src/index';

const issuer = (over: Partial<JwtIssuerInput> = {}) =>
  JwtIssuerConfig.parse({ issuer: 'https://id.example.com', tenant: { fixed: 'acme' }, ...over });

describe('claimAt', () => {
  it('reads top-level names (dots included) and nested paths, never inherited properties', () => {
    const claims = { 'https://x.example/roles': ['admin'], realm_access: { roles: ['agent'] } };
    expect(claimAt(claims, 'https://x.example/roles')).toEqual(['admin']);
    expect(claimAt(claims, ['realm_access', 'roles'])).toEqual(['agent']);
    expect(claimAt(claims, ['realm_access', 'missing', 'x'])).toBeUndefined();
    expect(claimAt(claims, 'toString')).toBeUndefined();
    expect(claimAt(claims, ['realm_access', 'roles', 'length'])).toBeUndefined();
  });
});

describe('principalFromClaims', () => {
  it('maps sub in a fixed tenant with the default role and kind', () => {
    expect(principalFromClaims({ sub: 'bob' }, issuer())).toEqual({
      ok: true,
      principal: { tenant: 'acme', id: 'bob', kind: 'user', roles: ['agent'], groups: [] },
    });
  });

  it('takes tenant and principal from configured claims, kind from the config', () => {
    const config = issuer({ tenant: { claim: ['org', 'id'] }, principalClaim: 'email', kind: 'service' });
    const mapped = principalFromClaims({ sub: 'x', email: 'svc@acme.io', org: { id: 'acme-eu' } }, config);
    expect(mapped).toMatchObject({
      ok: true,
      principal: { tenant: 'acme-eu', id: 'svc@acme.io', kind: 'service' },
    });
  });

  it.each([
    ['a missing sub', {}, 'the sub claim is not a valid principal id'],
    ['a numeric sub', { sub: 42 }, 'the sub claim is not a valid principal id'],
    ['a look-alike sub', { sub: 'аlice' }, 'the sub claim is not a valid principal id'],
    ['a sub with a space', { sub: 'a b' }, 'the sub claim is not a valid principal id'],
  ])('refuses %s', (_name, claims, detail) => {
    expect(principalFromClaims(claims as JWTPayload, issuer())).toEqual({ ok: false, detail });
  });

  it.each([undefined, 'ACME', 'acme.eu', ['acme'], ''])('refuses the tenant claim %j', (tid) => {
    expect(principalFromClaims({ sub: 'a', tid }, issuer({ tenant: { claim: 'tid' } }))).toEqual({
      ok: false,
      detail: 'the tid claim is not a valid tenant id',
    });
  });

  it('keeps known grantable roles, drops unknown ones and platform-admin unless grantable', () => {
    const config = issuer({ rolesClaim: 'roles' });
    const roles = (value: unknown, c = config) => {
      const mapped = principalFromClaims({ sub: 'a', roles: value }, c);
      return mapped.ok ? mapped.principal.roles : mapped.detail;
    };
    expect(roles(['auditor', 'viewer', 'agent', 'agent'])).toEqual(['auditor', 'agent']);
    expect(roles('admin offline_access')).toEqual(['admin']);
    expect(roles(['platform-admin'])).toEqual([]);
    expect(
      roles(['platform-admin'], issuer({ rolesClaim: 'roles', grantableRoles: ['platform-admin'] })),
    ).toEqual(['platform-admin']);
    expect(roles(['viewer'])).toEqual([]);
    expect(roles([1, 2])).toBe('the roles claim is not a list of role names');
    expect(roles({ admin: true })).toBe('the roles claim is not a list of role names');
  });

  it('gives the default roles when the roles claim is absent', () => {
    const config = issuer({ rolesClaim: ['realm_access', 'roles'], defaultRoles: ['auditor'] });
    expect(principalFromClaims({ sub: 'a' }, config)).toMatchObject({ principal: { roles: ['auditor'] } });
  });

  it('maps groups, removing duplicates, and refuses invalid or too many names', () => {
    const config = issuer({ groupsClaim: 'groups' });
    const groups = (value: unknown) => {
      const mapped = principalFromClaims({ sub: 'a', groups: value }, config);
      return mapped.ok ? mapped.principal.groups : mapped.detail;
    };
    expect(groups(['eng', 'ops', 'eng'])).toEqual(['eng', 'ops']);
    expect(groups(undefined)).toEqual([]);
    expect(groups(['/eng/backend'])).toBe('the groups claim holds an invalid group name');
    expect(groups(['ok', 'bad name'])).toBe('the groups claim holds an invalid group name');
    expect(groups(Array.from({ length: 33 }, (_, i) => `g${i}`))).toBe(
      'the groups claim holds more than 32 groups',
    );
    expect(groups(7)).toBe('the groups claim is not a list of group names');
  });
});

describe('scopesFromClaims', () => {
  it.each([
    ['scope string', { scope: 'a b  c a' }, ['a', 'b', 'c']],
    ['scp array', { scp: ['x', 'y'] }, ['x', 'y']],
    ['scp string', { scp: 'x y' }, ['x', 'y']],
    ['scope before scp', { scope: 'a', scp: ['x'] }, ['a']],
    ['neither', {}, []],
  ])('reads %s', (_name, claims, scopes) => {
    expect(scopesFromClaims(claims)).toEqual(scopes);
  });

  it.each([
    ['a scope array', { scope: ['a'] }],
    ['a numeric scp', { scp: [1] }],
    ['a quote in a scope', { scope: 'a"b' }],
    ['a non-ASCII scope', { scp: ['ä'] }],
    ['too many scopes', { scope: Array.from({ length: 300 }, (_, i) => `s${i}`).join(' ') }],
  ])('refuses %s', (_name, claims) => {
    expect(scopesFromClaims(claims)).toBeNull();
  });

  it('lists the required scopes a grant lacks', () => {
    expect(missingScopes(['a', 'b'], ['b', 'c', 'd'])).toEqual(['c', 'd']);
    expect(missingScopes(['a'], [])).toEqual([]);
  });
});
