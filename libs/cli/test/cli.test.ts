import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@meshgate/testing';
import { run } from '../src/cli';
import { serversTable } from '../src/commands/servers';
import { captureIo } from './io-capture';
import { startFakeRegistry, type FakeRegistry } from './fake-registry';

let registry: FakeRegistry;
beforeEach(async () => {
  registry = await startFakeRegistry();
});
afterEach(() => registry.close());

async function meshgate(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, { io, env: { MESHGATE_REGISTRY_URL: registry.url }, cwd: '/' });
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('meshgate servers', () => {
  it('adds, lists, gets and removes a server with exit code 0', async () => {
    const added = await meshgate(
      'servers',
      'add',
      'fs',
      '--command',
      'npx',
      '--arg=-y',
      '--arg',
      'my dir',
      '--env',
      'K=V',
    );
    expect(added).toEqual({ code: 0, out: 'added server "fs" (stdio, revision 1)\n', err: '' });
    await meshgate('servers', 'add', 'docs', '--url', 'https://docs.example/mcp', '--type', 'sse');

    const list = await meshgate('servers', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toBe(
      [
        'NAME  TRANSPORT  ENABLED  TARGET',
        "fs    stdio      yes      npx -y 'my dir'",
        'docs  sse        yes      https://docs.example/mcp',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await meshgate('servers', 'list', '--json')).out);
    expect(json.map((r: { definition: { name: string } }) => r.definition.name)).toEqual(['fs', 'docs']);

    const got = await meshgate('servers', 'get', 'fs');
    expect(JSON.parse(got.out).definition).toMatchObject({
      command: 'npx',
      args: ['-y', 'my dir'],
      env: { K: 'V' },
    });

    expect(await meshgate('servers', 'remove', 'fs')).toEqual({
      code: 0,
      out: 'removed server "fs"\n',
      err: '',
    });
    expect(registry.records.has('fs')).toBe(false);
  });

  it('explains registry refusals with exit code 1', async () => {
    await meshgate('servers', 'add', 'fs', '--command', 'npx');
    const again = await meshgate('servers', 'add', 'fs', '--command', 'npx');
    expect(again.code).toBe(1);
    expect(again.err).toContain(
      'a server named "fs" already exists (remove it first: meshgate servers remove fs)',
    );
    expect(await meshgate('servers', 'get', 'ghost')).toMatchObject({
      code: 1,
      err: 'meshgate: no server named "ghost"\n',
    });
    expect(await meshgate('servers', 'remove', 'ghost')).toMatchObject({
      code: 1,
      err: 'meshgate: no server named "ghost"\n',
    });
  });

  it('says how to reach a registry when none answers', async () => {
    const result = await meshgate(
      'servers',
      'list',
      '--registry-url',
      `http://127.0.0.1:${await freePort()}`,
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain('ECONNREFUSED');
    expect(result.err).toContain('Is the gateway running ("meshgate start")?');
  });

  it('answers usage mistakes with exit code 2 and help with 0', async () => {
    expect(await meshgate('servers', 'add', 'fs')).toMatchObject({ code: 2, out: '' });
    expect((await meshgate('servers', 'add', 'fs')).err).toContain('Run "meshgate help" for usage.');
    const bare = await meshgate();
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('Usage:');
    const help = await meshgate('help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('meshgate servers add <name> --command <cmd>');
    expect(registry.requests).toEqual([]);
  });
});

describe('serversTable', () => {
  it('says so when the catalogue is empty', () => {
    expect(serversTable([])).toContain('no servers registered');
  });
});
