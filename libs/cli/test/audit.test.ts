/**
 * `meshgate audit query|tail|verify` against a local stand-in of the audit API: argument parsing and its
 * usage errors, pagination up to --limit, filters and the API key on the wire, the table and --json output,
 * verification exit codes, the tail printing events until its signal aborts, and API refusals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../src/cli';
import { eventLine } from '../src/commands/audit';
import { parseCommand, UsageError } from '../src/args';
import { captureIo } from './io-capture';
import { record, startFakeAudit, type FakeAudit } from './fake-audit';

let audit: FakeAudit;
beforeEach(async () => {
  audit = await startFakeAudit();
});
afterEach(() => audit.close());

async function meshgate(argv: string[], env: Record<string, string> = {}, signal?: AbortSignal) {
  const io = captureIo();
  const code = await run(argv, {
    io,
    env: { MESHGATE_AUDIT_URL: audit.url, ...env },
    cwd: '/',
    ...(signal ? { signal } : {}),
  });
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('meshgate audit parsing', () => {
  it('builds commands with defaults and rejects mistakes as usage errors', () => {
    expect(parseCommand(['audit', 'query', '--tenant', 'acme'], {})).toEqual({
      kind: 'audit-query',
      auditUrl: 'http://127.0.0.1:8082',
      filters: { tenant: 'acme' },
      limit: 100,
      json: false,
    });
    expect(
      parseCommand(
        ['audit', 'tail', '--tenant', 'acme', '--trace-id', 'a'.repeat(32), '--audit-url', 'http://h:1/'],
        {
          MESHGATE_API_KEY: 'tok',
        },
      ),
    ).toMatchObject({
      kind: 'audit-tail',
      auditUrl: 'http://h:1',
      apiKey: 'tok',
      filters: { traceId: 'a'.repeat(32) },
    });
    const usage = (argv: string[], message: string) =>
      expect(() => parseCommand(argv, {}), argv.join(' ')).toThrow(new UsageError(message));
    usage(['audit'], '"audit" needs a subcommand: query, tail or verify');
    usage(['audit', 'purge'], 'unknown subcommand "audit purge"');
    usage(['audit', 'query'], '--tenant is required');
    usage(
      ['audit', 'query', '--tenant', 'Acme'],
      'invalid --tenant "Acme": lower-case letters, digits and "-", starting with a letter or digit',
    );
    expect(() => parseCommand(['audit', 'query', '--tenant', 'acme', '--kind', 'all'], {})).toThrow(
      /^invalid --kind "all": Invalid option: expected one of "request-received"/,
    );
    usage(
      ['audit', 'query', '--tenant', 'acme', '--limit', '0'],
      '--limit must be a whole number above 0, got "0"',
    );
    usage(
      ['audit', 'verify', '--tenant', 'acme', '--kind', 'cache-hit'],
      '"audit verify" takes only --tenant, not --kind',
    );
    usage(
      ['audit', 'query', '--tenant', 'acme', '--audit-url', 'ftp://x'],
      '--audit-url must be an http(s) URL, got "ftp://x"',
    );
    expect(() => parseCommand(['audit', 'tail', '--tenant', 'acme', '--limit', '3'], {})).toThrow(UsageError);
  });
});

describe('meshgate audit query', () => {
  it('follows cursors up to --limit, prints a table line per event, and says when more match', async () => {
    audit.records.push(...Array.from({ length: 5 }, (_, i) => record('acme', i + 1)), record('other', 1));
    const all = await meshgate(['audit', 'query', '--tenant', 'acme']);
    expect(all.code).toBe(0);
    expect(all.out.trimEnd().split('\n')).toEqual(audit.records.slice(0, 5).map(eventLine));
    expect(all.err).toBe('');
    const some = await meshgate([
      'audit',
      'query',
      '--tenant',
      'acme',
      '--limit',
      '3',
      '--json',
      '--kind',
      'response-sent',
    ]);
    expect(JSON.parse(some.out).map((r: { link: { seq: number } }) => r.link.seq)).toEqual([1, 2, 3]);
    expect(some.err).toBe('more events match: raise --limit (3) or narrow the filters\n');
    expect(audit.requests.at(-1)?.url).toBe('/v1/audit/events?tenant=acme&kind=response-sent&limit=3');
    expect(await meshgate(['audit', 'query', '--tenant', 'nobody'])).toMatchObject({
      code: 0,
      out: 'no matching events\n',
    });
    expect(eventLine(record('acme', 7, { principal: 'alice', server: 'fs', target: 'read' }))).toBe(
      `     7  2026-11-24T09:00:07.000Z  response-sent       alice  fs/read  ok  ${'0'.repeat(31)}7`,
    );
  });

  it('sends the API key and explains refusals and an unreachable API with exit code 1', async () => {
    await audit.close();
    audit = await startFakeAudit('secret-token-of-acme');
    const ok = await meshgate(['audit', 'query', '--tenant', 'acme', '--api-key', 'secret-token-of-acme']);
    expect(ok.code).toBe(0);
    expect(audit.requests.at(-1)?.authorization).toBe('Bearer secret-token-of-acme');
    expect(await meshgate(['audit', 'query', '--tenant', 'acme'])).toMatchObject({
      code: 1,
      err: 'meshgate: GET /v1/audit/events?tenant=acme&limit=100: 401 the API key is not valid\n',
    });
    const forbidden = await meshgate(['audit', 'verify', '--tenant', 'globex'], {
      MESHGATE_API_KEY: 'secret-token-of-acme',
    });
    expect(forbidden).toMatchObject({
      code: 1,
      err: expect.stringContaining(
        '403 principal "acme/sec" may not read the audit trail of tenant "globex"',
      ),
    });
    const down = await meshgate(['audit', 'verify', '--tenant', 'acme', '--audit-url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.err).toContain(
      'Is the audit service running? Point --audit-url or MESHGATE_AUDIT_URL at it.',
    );
  });
});

describe('meshgate audit verify', () => {
  it('exits 0 when the chain verifies and 1 with the findings when it does not', async () => {
    expect(await meshgate(['audit', 'verify', '--tenant', 'acme'])).toEqual({
      code: 0,
      out: 'tenant "acme": 3 records checked up to seq 3, 1 signed checkpoints: the chain verifies\n',
      err: '',
    });
    audit.report = {
      ...audit.report,
      ok: false,
      findings: [
        { seq: 2, eventId: null, problem: 'removed' },
        { seq: 3, eventId: '0b7f3c1e-0000-4000-8000-000000000003', problem: 'changed' },
      ],
    };
    const failed = await meshgate(['audit', 'verify', '--tenant', 'acme']);
    expect(failed.code).toBe(1);
    expect(failed.out).toBe(
      [
        'tenant "acme": 3 records checked up to seq 3, 1 signed checkpoints: 2 finding(s), the chain does NOT verify',
        '  seq 2: removed',
        '  seq 3: changed (event 0b7f3c1e-0000-4000-8000-000000000003)',
        '',
      ].join('\n'),
    );
    const json = await meshgate(['audit', 'verify', '--tenant', 'acme', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, findings: [{ seq: 2 }, { seq: 3 }] });
  });
});

describe('meshgate audit tail', () => {
  it('prints each event as it arrives until the signal aborts, then exits 0', async () => {
    const stop = new AbortController();
    const running = meshgate(['audit', 'tail', '--tenant', 'acme', '--json'], {}, stop.signal);
    await audit.tails(1);
    const first = record('acme', 1);
    const second = record('acme', 2, { kind: 'cache-miss', key: `sha256:${'b'.repeat(64)}` } as never);
    audit.emit(first);
    audit.emit(second);
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    const result = await running;
    expect(result.code).toBe(0);
    expect(
      result.out
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).event.id),
    ).toEqual([first.event.id, second.event.id]);
    expect(audit.requests.at(-1)?.url).toBe('/v1/audit/tail?tenant=acme');
  });
});
