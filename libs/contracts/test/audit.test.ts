import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AuditBatch,
  AuditEvent,
  AuditMessage,
  AuditSubjects,
  eventsOf,
  MAX_BATCH_EVENTS,
} from '../src/audit';
import {
  AuditMessageSchemaPath,
  AuditSchemaPath,
  auditEventJsonSchema,
  auditMessageJsonSchema,
} from '../src/audit-schema';

const base = {
  v: 1,
  id: '0b6c1c4e-5d57-4c5e-9d6c-3f1f5a0b8e21',
  time: '2026-11-24T10:00:00.000Z',
  tenant: 'acme',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  service: 'router',
  instance: 'router-1',
} as const;

describe('AuditEvent', () => {
  it('accepts each kind with its own fields', () => {
    expect(
      AuditEvent.parse({
        ...base,
        kind: 'upstream-call',
        server: 'github',
        target: 'search',
        latencyMs: 3.2,
        sizeBytes: 120,
        outcome: 'ok',
      }),
    ).toMatchObject({ kind: 'upstream-call', outcome: 'ok' });
    expect(
      AuditEvent.parse({
        ...base,
        kind: 'request-received',
        method: 'tools/call',
        arguments: { digest: `sha256:${'a'.repeat(64)}`, redacted: { q: 'x', token: '[redacted]' } },
      }).kind,
    ).toBe('request-received');
  });

  it('gives every kind its fields in sorted order, as the canonical form has them', () => {
    const kinds = AuditEvent.options.map((option) => option.shape.kind.value);
    expect(kinds).toHaveLength(8);
    for (const option of AuditEvent.options) {
      const keys = Object.keys(option.shape);
      expect(keys).toEqual([...keys].sort());
    }
    // Parsed from fields in any order, an event comes out in key order.
    const parsed = AuditEvent.parse({
      outcome: 'error',
      error: { message: 'boom', code: -32000 },
      sizeBytes: 1,
      latencyMs: 2,
      kind: 'response-sent',
      ...base,
    });
    expect(Object.keys(parsed)).toEqual(Object.keys(parsed).sort());
    expect(JSON.stringify(parsed)).toContain('"error":{"code":-32000,"message":"boom"}');
  });

  it('refuses events that break the schema', () => {
    expect(AuditEvent.safeParse({ ...base, kind: 'upstream-call' }).success).toBe(false);
    expect(
      AuditEvent.safeParse({
        ...base,
        tenant: 'Acme.Corp',
        kind: 'cache-miss',
        key: `sha256:${'b'.repeat(64)}`,
      }).success,
    ).toBe(false);
    expect(
      AuditEvent.safeParse({ ...base, v: 2, kind: 'cache-miss', key: `sha256:${'b'.repeat(64)}` }).success,
    ).toBe(false);
    expect(
      AuditEvent.safeParse({
        ...base,
        kind: 'request-received',
        arguments: { digest: 'md5:x', redacted: {} },
      }).success,
    ).toBe(false);
  });

  it('builds one subject per tenant and kind, refusing unsafe tenants', () => {
    expect(AuditSubjects.of('acme', 'policy-decision')).toBe('mg.audit.acme.policy-decision');
    expect(AuditSubjects.tenant('acme')).toBe('mg.audit.acme.>');
    expect(() => AuditSubjects.of('a.b', 'cache-hit')).toThrow(/tenant/);
    expect(() => AuditSubjects.tenant('*')).toThrow(/tenant/);
  });
});

describe('AuditBatch', () => {
  const sent = (id: string) => ({
    ...base,
    id,
    kind: 'response-sent',
    latencyMs: 1,
    sizeBytes: 2,
    outcome: 'ok',
  });
  const ids = ['0b6c1c4e-5d57-4c5e-9d6c-3f1f5a0b8e22', '0b6c1c4e-5d57-4c5e-9d6c-3f1f5a0b8e23'];
  const batchId = '7d1f0c4e-5d57-4c5e-9d6c-3f1f5a0b8e21';

  it('carries events of one tenant and kind, read back in order as a stream message', () => {
    const message = AuditMessage.parse({ batch: batchId, events: ids.map(sent) });
    expect(eventsOf(message).map((e) => e.id)).toEqual(ids);
    expect(eventsOf(AuditMessage.parse(sent(ids[0]!))).map((e) => e.id)).toEqual([ids[0]]);
  });

  it('refuses mixed tenants or kinds, an empty or oversized batch, and a batch without an id', () => {
    const other = { ...sent(ids[1]!), tenant: 'globex' };
    expect(AuditBatch.safeParse({ batch: batchId, events: [sent(ids[0]!), other] }).success).toBe(false);
    const denied = { ...base, id: ids[1], kind: 'policy-decision', effect: 'deny', policies: [] };
    expect(AuditEvent.safeParse(denied).success).toBe(true);
    expect(AuditBatch.safeParse({ batch: batchId, events: [sent(ids[0]!), denied] }).success).toBe(false);
    expect(AuditBatch.safeParse({ batch: batchId, events: [] }).success).toBe(false);
    const many = Array.from({ length: MAX_BATCH_EVENTS + 1 }, () => sent(ids[0]!));
    expect(AuditBatch.safeParse({ batch: batchId, events: many }).success).toBe(false);
    expect(AuditMessage.safeParse({ events: [sent(ids[0]!)] }).success).toBe(false);
  });
});

describe('published JSON Schemas', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  it.each([
    [AuditSchemaPath, auditEventJsonSchema],
    [AuditMessageSchemaPath, auditMessageJsonSchema],
  ])(
    '%s is the one derived from the zod schema (run npm run audit:schema after a change)',
    (path, derive) => {
      const published = JSON.parse(readFileSync(`${root}${path}`, 'utf8'));
      expect(published).toEqual(derive());
      expect(published['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    },
  );
});
