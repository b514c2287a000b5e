/**
 * Roles and the life of a key as pure functions: who may act as what where, who may grant which roles,
 * key status at an instant, the expiry of a rotated key, and the contract schemas refusing look-alike,
 * invisible and direction-changing characters in tenants, principals, groups and descriptions.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiKeyRecord,
  CreateApiKeyRequest,
  GroupName,
  PrincipalId,
  TenantId,
  principalRef,
  type Principal,
  type Role,
} from '@meshgate/contracts';
import { can, grantRefusal, keyStatus, mayGrant, revocationInstant, rotatedExpiry } from '../src/index';

const who = (tenant: string, ...roles: Role[]): Pick<Principal, 'tenant' | 'roles'> => ({ tenant, roles });

describe('can', () => {
  it('lets a platform-admin act as anything in every tenant', () => {
    for (const role of ['platform-admin', 'admin', 'auditor', 'agent'] as const)
      expect(can(who('default', 'platform-admin'), role, 'acme')).toBe(true);
  });

  it('keeps every other role in its own tenant, with admin implying auditor only', () => {
    const admin = who('acme', 'admin');
    expect(can(admin, 'admin', 'acme')).toBe(true);
    expect(can(admin, 'auditor', 'acme')).toBe(true);
    expect(can(admin, 'agent', 'acme')).toBe(false);
    expect(can(admin, 'platform-admin', 'acme')).toBe(false);
    expect(can(admin, 'admin', 'globex')).toBe(false);
    expect(can(admin, 'auditor', 'globex')).toBe(false);
    const auditor = who('acme', 'auditor');
    expect(can(auditor, 'auditor', 'acme')).toBe(true);
    expect(can(auditor, 'admin', 'acme')).toBe(false);
    expect(can(who('acme', 'agent'), 'auditor', 'acme')).toBe(false);
    expect(can(who('acme'), 'agent', 'acme')).toBe(false);
  });
});

describe('mayGrant', () => {
  it('lets admins grant up to admin in their tenant, and only platform-admins grant platform-admin', () => {
    const admin = who('acme', 'admin');
    expect(mayGrant(admin, ['agent'], 'acme')).toBe(true);
    expect(mayGrant(admin, ['admin', 'auditor'], 'acme')).toBe(true);
    expect(mayGrant(admin, ['platform-admin'], 'acme')).toBe(false);
    expect(mayGrant(admin, ['agent'], 'globex')).toBe(false);
    expect(mayGrant(who('acme', 'auditor'), ['auditor'], 'acme')).toBe(false);
    expect(mayGrant(who('default', 'platform-admin'), ['platform-admin'], 'globex')).toBe(true);
    expect(grantRefusal(admin, ['platform-admin'], 'acme')).toBe(
      'only a platform-admin key may grant the role platform-admin',
    );
    expect(grantRefusal(admin, ['agent'], 'globex')).toBe(
      'this key may not manage the keys of tenant "globex"',
    );
    expect(grantRefusal(admin, ['agent'], 'acme')).toBeNull();
  });
});

describe('key lifecycle', () => {
  const t0 = Date.parse('2026-11-24T10:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();

  it('tells active, revoked and expired keys apart at an instant; revocation wins', () => {
    expect(keyStatus({}, t0)).toBe('active');
    expect(keyStatus({ expiresAt: iso(t0 + 1) }, t0)).toBe('active');
    expect(keyStatus({ expiresAt: iso(t0) }, t0)).toBe('expired');
    expect(keyStatus({ revokedAt: iso(t0 + 1000) }, t0)).toBe('active');
    expect(keyStatus({ revokedAt: iso(t0) }, t0)).toBe('revoked');
    expect(keyStatus({ revokedAt: iso(t0 - 1), expiresAt: iso(t0 - 1) }, t0)).toBe('revoked');
  });

  it('gives a rotated key the requested lifetime, else the old one counted from now', () => {
    const old = { createdAt: iso(t0 - 86_400_000 * 10), expiresAt: iso(t0 + 86_400_000 * 20) };
    expect(rotatedExpiry(old, t0, 5)).toBe(iso(t0 + 86_400_000 * 5));
    expect(rotatedExpiry(old, t0, undefined)).toBe(iso(t0 + 86_400_000 * 30));
    expect(rotatedExpiry({ createdAt: iso(t0) }, t0, undefined)).toBeUndefined();
  });

  it('never moves a revocation later', () => {
    expect(revocationInstant({}, t0)).toBe(iso(t0));
    expect(revocationInstant({ revokedAt: iso(t0 - 5) }, t0)).toBe(iso(t0 - 5));
    expect(revocationInstant({ revokedAt: iso(t0 + 60_000) }, t0)).toBe(iso(t0));
  });
});

describe('contract schemas', () => {
  it.each([
    ['Cyrillic a', 'аcme'],
    ['fullwidth letters', 'ａｃｍｅ'],
    ['zero-width joiner', 'ac\u200dme'],
    ['right-to-left override', 'acme\u202e'],
    ['combining accent', 'acme\u0301'],
    ['NUL', 'acme\u0000'],
    ['subject wildcard', 'acme.>'],
    ['path', '../acme'],
  ])('refuses %s in tenants, principals and groups', (_name, text) => {
    expect(TenantId.safeParse(text).success).toBe(false);
    expect(PrincipalId.safeParse(text).success).toBe(false);
    expect(GroupName.safeParse(text).success).toBe(false);
  });

  it('accepts plain ids and names principals as <tenant>/<id>', () => {
    expect(PrincipalId.safeParse('alice.smith@example.com').success).toBe(true);
    expect(PrincipalId.safeParse('p'.repeat(129)).success).toBe(false);
    expect(principalRef({ tenant: 'acme', id: 'alice' })).toBe('acme/alice');
  });

  it('refuses duplicate roles, unknown fields, and control or bidi characters in descriptions', () => {
    const base = { tenant: 'acme', principal: 'bot', kind: 'agent', roles: ['agent'] };
    expect(CreateApiKeyRequest.parse(base)).toEqual({ ...base, groups: [] });
    expect(CreateApiKeyRequest.safeParse({ ...base, roles: ['agent', 'agent'] }).success).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ ...base, roles: [] }).success).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ ...base, role: 'admin' }).success).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ ...base, expiresInDays: 0 }).success).toBe(false);
    for (const description of ['a\u001b[31mred', 'left\u202eright', 'bom\ufeff', 'line\nbreak'])
      expect(CreateApiKeyRequest.safeParse({ ...base, description }).success, description).toBe(false);
    expect(CreateApiKeyRequest.safeParse({ ...base, description: 'CI bot – Zürich' }).success).toBe(true);
  });

  it('requires a digest and a version on the stored record', () => {
    const record = {
      v: 1,
      keyId: '0123456789abcdef',
      tenant: 'acme',
      principal: 'bot',
      kind: 'agent',
      roles: ['agent'],
      groups: [],
      createdAt: '2026-11-24T10:00:00.000Z',
      hash: 'a'.repeat(64),
    };
    expect(ApiKeyRecord.safeParse(record).success).toBe(true);
    expect(ApiKeyRecord.safeParse({ ...record, v: 2 }).success).toBe(false);
    expect(ApiKeyRecord.safeParse({ ...record, hash: 'secret' }).success).toBe(false);
  });
});
