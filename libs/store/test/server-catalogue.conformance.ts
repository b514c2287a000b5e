/**
 * The conformance suite of the ServerCatalogue port: every adapter (JetStream KV now, MongoDB later) runs
 * exactly these tests, so the services can rely on one behaviour whichever adapter is configured.
 * Each test gets a fresh, empty catalogue from the factory and disposes of it afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerDefinition } from '@meshgate/contracts';
import {
  InvalidServerDefinition,
  RevisionConflict,
  type CatalogueChange,
  type ServerCatalogue,
} from '../src/index';

/** What a factory hands each test: an empty catalogue and how to dispose of it. */
export interface CatalogueFixture {
  catalogue: ServerCatalogue;
  dispose(): Promise<void>;
}

const stdio = (name: string, args: string[] = []): ServerDefinition => ({
  name,
  transport: 'stdio',
  command: 'node',
  args,
  env: {},
  enabled: true,
  stateful: false,
  timeoutMs: 60_000,
});

const http = (name: string): ServerDefinition => ({
  name,
  transport: 'streamable-http',
  url: 'https://mcp.example.com/mcp',
  headers: { Authorization: 'Bearer x' },
  enabled: false,
  stateful: true,
  timeoutMs: 5_000,
  description: 'remote',
});

/** Polls `check` every 10 ms until it holds or `timeoutMs` passes. */
async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers the suite for one adapter under `describe(name)`. */
export function describeServerCatalogueConformance(
  name: string,
  factory: () => Promise<CatalogueFixture>,
): void {
  describe(`ServerCatalogue conformance: ${name}`, () => {
    let fixture: CatalogueFixture;
    let cat: ServerCatalogue;
    beforeEach(async () => {
      fixture = await factory();
      cat = fixture.catalogue;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('starts empty and answers null for a missing server', async () => {
      expect(await cat.list()).toEqual([]);
      expect(await cat.get('absent')).toBeNull();
    });

    it('stores a definition and reads it back with a revision and a timestamp', async () => {
      const written = await cat.put(http('remote-a'));
      expect(written.v).toBe(1);
      expect(written.definition).toEqual(http('remote-a'));
      expect(written.revision).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(written.updatedAt))).toBe(false);
      expect(await cat.get('remote-a')).toEqual(written);
    });

    it('lists every record sorted by name', async () => {
      await cat.put(stdio('zeta'));
      await cat.put(http('alpha'));
      await cat.put(stdio('Mid'));
      const names = (await cat.list()).map((r) => r.definition.name);
      expect(names).toEqual(['Mid', 'alpha', 'zeta']);
    });

    it('replaces a record and raises its revision', async () => {
      const first = await cat.put(stdio('tool', ['a']));
      const second = await cat.put(stdio('tool', ['b']));
      expect(second.revision).toBeGreaterThan(first.revision);
      expect((await cat.get('tool'))?.definition).toEqual(stdio('tool', ['b']));
      expect(await cat.list()).toHaveLength(1);
    });

    it('creates with expectedRevision 0 only when the server does not exist', async () => {
      await cat.put(stdio('once'), { expectedRevision: 0 });
      const err = await cat.put(stdio('once', ['x']), { expectedRevision: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RevisionConflict);
      expect((err as RevisionConflict).serverName).toBe('once');
      expect((await cat.get('once'))?.definition).toEqual(stdio('once'));
    });

    it('replaces with the current revision and refuses a stale or absent one', async () => {
      const first = await cat.put(stdio('cas'));
      const second = await cat.put(stdio('cas', ['2']), { expectedRevision: first.revision });
      await expect(cat.put(stdio('cas', ['3']), { expectedRevision: first.revision })).rejects.toBeInstanceOf(
        RevisionConflict,
      );
      await expect(cat.put(stdio('nobody'), { expectedRevision: second.revision })).rejects.toBeInstanceOf(
        RevisionConflict,
      );
      expect((await cat.get('cas'))?.revision).toBe(second.revision);
      expect(await cat.get('nobody')).toBeNull();
    });

    it('lets exactly one of two racing conditional writes win', async () => {
      const base = await cat.put(stdio('race'));
      const results = await Promise.allSettled([
        cat.put(stdio('race', ['a']), { expectedRevision: base.revision }),
        cat.put(stdio('race', ['b']), { expectedRevision: base.revision }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason instanceof RevisionConflict).toBe(true);
    });

    it('removes a record, reports the removal revision, and can create it again', async () => {
      const written = await cat.put(stdio('gone'));
      const removed = await cat.remove('gone');
      expect(removed).toBeGreaterThan(written.revision);
      expect(await cat.get('gone')).toBeNull();
      expect(await cat.list()).toEqual([]);
      expect(await cat.remove('gone')).toBeNull();
      const again = await cat.put(stdio('gone'), { expectedRevision: 0 });
      expect(again.revision).toBeGreaterThan(removed ?? 0);
    });

    it('refuses a removal at a stale revision and keeps the record', async () => {
      const first = await cat.put(stdio('keep'));
      await cat.put(stdio('keep', ['new']));
      await expect(cat.remove('keep', { expectedRevision: first.revision })).rejects.toBeInstanceOf(
        RevisionConflict,
      );
      expect((await cat.get('keep'))?.definition).toEqual(stdio('keep', ['new']));
    });

    it('rejects an invalid definition and stores nothing', async () => {
      const bad = { ...stdio('fine'), command: '' };
      await expect(cat.put(bad)).rejects.toBeInstanceOf(InvalidServerDefinition);
      await expect(cat.put({ ...stdio('x'), name: 'bad.name' })).rejects.toBeInstanceOf(
        InvalidServerDefinition,
      );
      expect(await cat.list()).toEqual([]);
    });

    it('answers null for names that cannot exist', async () => {
      for (const hostile of ['', 'a.b', '*', '>', '$KV', '../x', 'a b', '__proto__', 'x'.repeat(300)]) {
        expect(await cat.get(hostile)).toBeNull();
        expect(await cat.remove(hostile)).toBeNull();
      }
    });

    it('watches: current records first, then every change in order, until stopped', async () => {
      const existing = await cat.put(stdio('existing'));
      const seen: CatalogueChange[] = [];
      const watch = await cat.watch((c) => seen.push(c));
      await eventually(() => seen.length === 1);
      expect(seen[0]).toEqual({ op: 'put', record: existing });
      const added = await cat.put(http('added'));
      const removedAt = await cat.remove('existing');
      await eventually(() => seen.length === 3);
      expect(seen[1]).toEqual({ op: 'put', record: added });
      expect(seen[2]).toEqual({ op: 'delete', name: 'existing', revision: removedAt });
      await watch.stop();
      await watch.stop();
      await cat.put(stdio('after-stop'));
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toHaveLength(3);
    });

    it('answers a ping', async () => {
      await expect(cat.ping()).resolves.toBeUndefined();
    });
  });
}
