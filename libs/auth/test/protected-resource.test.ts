/**
 * RFC 9728 metadata (document, well-known URL and route path for resources with and without paths,
 * queries and trailing slashes, invalid options) and the WWW-Authenticate challenges (parameters,
 * escaping of quotes, backslashes and line breaks, bounded descriptions).
 */
import { describe, expect, it } from 'vitest';
import {
  insufficientScopeChallenge,
  metadataPathFor,
  metadataUrlFor,
  ProtectedResourceMetadata,
  protectedResourceMetadata,
  quoteParam,
  unauthorizedChallenge,
} from '../src/index';

describe('protectedResourceMetadata', () => {
  it('builds the RFC 9728 document with header-only bearer tokens', () => {
    const doc = protectedResourceMetadata({
      resource: 'https://gw.example.com/mcp',
      authorizationServers: ['https://id.example.com/realms/acme'],
      scopesSupported: ['mcp:tools'],
      resourceName: 'Meshgate',
    });
    expect(doc).toEqual({
      resource: 'https://gw.example.com/mcp',
      authorization_servers: ['https://id.example.com/realms/acme'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
      resource_name: 'Meshgate',
    });
    expect(ProtectedResourceMetadata.parse(JSON.parse(JSON.stringify(doc)))).toEqual(doc);
  });

  it('leaves out optional members that are not given', () => {
    const doc = protectedResourceMetadata({
      resource: 'https://gw.example.com',
      authorizationServers: ['https://id.example.com'],
    });
    expect(Object.keys(doc)).toEqual(['resource', 'authorization_servers', 'bearer_methods_supported']);
  });

  it.each([
    [
      'no authorization server',
      { resource: 'https://gw.example.com/mcp', authorizationServers: [] },
      /at least one/,
    ],
    [
      'an http resource',
      { resource: 'http://gw.example.com/mcp', authorizationServers: ['https://id.example.com'] },
      /resource: must use https/,
    ],
    [
      'a resource with a fragment',
      { resource: 'https://gw.example.com/mcp#x', authorizationServers: ['https://id.example.com'] },
      /fragment/,
    ],
    [
      'a duplicate server',
      {
        resource: 'https://gw.example.com',
        authorizationServers: ['https://a.example', 'https://a.example'],
      },
      /distinct/,
    ],
  ])('refuses %s', (_name, options, message) => {
    expect(() => protectedResourceMetadata(options)).toThrow(message);
  });
});

describe('metadataUrlFor / metadataPathFor', () => {
  it.each([
    ['https://gw.example.com', 'https://gw.example.com/.well-known/oauth-protected-resource'],
    ['https://gw.example.com/', 'https://gw.example.com/.well-known/oauth-protected-resource'],
    ['https://gw.example.com/mcp', 'https://gw.example.com/.well-known/oauth-protected-resource/mcp'],
    [
      'https://gw.example.com/t/acme/mcp/',
      'https://gw.example.com/.well-known/oauth-protected-resource/t/acme/mcp/',
    ],
    [
      'https://gw.example.com:8443/mcp?v=2',
      'https://gw.example.com:8443/.well-known/oauth-protected-resource/mcp?v=2',
    ],
    ['https://gw.example.com?v=2', 'https://gw.example.com/.well-known/oauth-protected-resource?v=2'],
    ['http://127.0.0.1:3000/mcp', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp'],
  ])('places the suffix for %s', (resource, url) => {
    expect(metadataUrlFor(resource)).toBe(url);
  });

  it('gives the route path on the gateway', () => {
    expect(metadataPathFor('https://gw.example.com/mcp')).toBe('/.well-known/oauth-protected-resource/mcp');
    expect(metadataPathFor('https://gw.example.com/')).toBe('/.well-known/oauth-protected-resource');
  });

  it.each(['mcp', 'http://gw.example.com/mcp', 'https://gw.example.com/mcp#frag'])(
    'refuses %s',
    (resource) => {
      expect(() => metadataUrlFor(resource)).toThrow(/resource URL/);
    },
  );
});

describe('challenges', () => {
  const Prm = 'https://gw.example.com/.well-known/oauth-protected-resource/mcp';

  it('asks for a token with the metadata URL and the scopes, without an error when none was sent', () => {
    expect(unauthorizedChallenge({ resourceMetadataUrl: Prm })).toBe(`Bearer resource_metadata="${Prm}"`);
    expect(unauthorizedChallenge({ resourceMetadataUrl: Prm, scopes: ['mcp:tools', 'mcp:read'] })).toBe(
      `Bearer resource_metadata="${Prm}", scope="mcp:tools mcp:read"`,
    );
    expect(unauthorizedChallenge({})).toBe('Bearer');
  });

  it('says why a presented token was refused', () => {
    expect(
      unauthorizedChallenge({
        resourceMetadataUrl: Prm,
        error: 'invalid_token',
        description: 'the token has expired',
      }),
    ).toBe(
      `Bearer resource_metadata="${Prm}", error="invalid_token", error_description="the token has expired"`,
    );
  });

  it('names the scopes needed in a 403 challenge', () => {
    expect(insufficientScopeChallenge({ scopes: ['mcp:tools', 'admin'], resourceMetadataUrl: Prm })).toBe(
      `Bearer error="insufficient_scope", scope="mcp:tools admin", resource_metadata="${Prm}"`,
    );
  });

  it('escapes quotes and backslashes and replaces line breaks and non-ASCII', () => {
    expect(quoteParam('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    const header = unauthorizedChallenge({
      error: 'invalid_token',
      description: 'x", error="forged\r\nSet-Cookie: a=b ü',
      realm: 'r"',
    });
    expect(header).toBe(
      'Bearer realm="r\\"", error="invalid_token", error_description="x\\", error=\\"forged??Set-Cookie: a=b ?"',
    );
    expect(header).not.toMatch(/[\r\n]/);
  });

  it('bounds the description', () => {
    const header = unauthorizedChallenge({ error: 'invalid_token', description: 'x'.repeat(5000) });
    expect(header.length).toBeLessThan(260);
  });
});
