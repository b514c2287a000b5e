import { describe, expect, it } from 'vitest';
import { DefaultRegistryUrl, parseCommand, UsageError } from '../src/args';

const noEnv = {};

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCommand(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parsed without error: ${argv.join(' ')}`);
}

describe('parseCommand', () => {
  it('reads help in every spelling, also after a command', () => {
    expect(parseCommand(['help'], noEnv)).toEqual({ kind: 'help' });
    expect(parseCommand(['--help'], noEnv)).toEqual({ kind: 'help' });
    expect(parseCommand(['servers', 'add', '-h'], noEnv)).toEqual({ kind: 'help' });
  });

  it('reads start and its --json-logs flag', () => {
    expect(parseCommand(['start'], noEnv)).toEqual({ kind: 'start', jsonLogs: false });
    expect(parseCommand(['start', '--json-logs'], noEnv)).toEqual({ kind: 'start', jsonLogs: true });
    expect(usageError(['start', 'now'])).toContain('unexpected argument "now"');
  });

  it('rejects no command, unknown commands and unknown options', () => {
    expect(usageError([])).toBe('no command given');
    expect(usageError(['stop'])).toBe('unknown command "stop"');
    expect(usageError(['servers'])).toContain('needs a subcommand');
    expect(usageError(['servers', 'purge'])).toBe('unknown subcommand "servers purge"');
    expect(usageError(['servers', 'list', '--bogus'])).toContain("Unknown option '--bogus'");
  });

  it('takes the registry URL from the flag, then MESHGATE_REGISTRY_URL, then the default', () => {
    expect(parseCommand(['servers', 'list'], noEnv)).toEqual({
      kind: 'servers-list',
      registryUrl: DefaultRegistryUrl,
      json: false,
    });
    const env = { MESHGATE_REGISTRY_URL: 'http://10.1.2.3:9000/' };
    expect(parseCommand(['servers', 'list', '--json'], env)).toEqual({
      kind: 'servers-list',
      registryUrl: 'http://10.1.2.3:9000',
      json: true,
    });
    expect(parseCommand(['servers', 'get', 'fs', '--registry-url', 'https://reg.example'], env)).toEqual({
      kind: 'servers-get',
      registryUrl: 'https://reg.example',
      name: 'fs',
    });
    expect(usageError(['servers', 'list'], { MESHGATE_REGISTRY_URL: 'ftp://x' })).toContain(
      'MESHGATE_REGISTRY_URL must be an http(s) URL',
    );
    expect(usageError(['servers', 'list', '--registry-url', 'nope'])).toContain(
      '--registry-url must be an http(s) URL',
    );
  });

  it('validates server names with the contracts rule', () => {
    expect(parseCommand(['servers', 'remove', 'my-server1'], noEnv)).toMatchObject({
      kind: 'servers-remove',
      name: 'my-server1',
    });
    expect(usageError(['servers', 'get'])).toBe('missing the server name');
    expect(usageError(['servers', 'get', '1bad'])).toContain('invalid server name "1bad"');
    expect(usageError(['servers', 'get', 'a__b'])).toContain('invalid server name');
    expect(usageError(['servers', 'get', 'a', 'b'])).toBe('unexpected argument "b"');
  });

  it('builds a stdio definition from --command, repeated --arg and --env', () => {
    const cmd = parseCommand(
      [
        'servers',
        'add',
        'fs',
        '--command',
        'npx',
        '--arg=-y',
        '--arg',
        'pkg',
        '--env',
        'TOKEN=a=b',
        '--env',
        'EMPTY=',
      ],
      noEnv,
    );
    expect(cmd).toEqual({
      kind: 'servers-add',
      registryUrl: DefaultRegistryUrl,
      definition: {
        name: 'fs',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', 'pkg'],
        env: { TOKEN: 'a=b', EMPTY: '' },
      },
    });
  });

  it('builds remote definitions from --url with --type http (default) or sse', () => {
    expect(parseCommand(['servers', 'add', 'docs', '--url', 'https://x.example/mcp'], noEnv)).toMatchObject({
      definition: { name: 'docs', transport: 'streamable-http', url: 'https://x.example/mcp' },
    });
    expect(
      parseCommand(['servers', 'add', 'old', '--url', 'http://127.0.0.1:3001/sse', '--type', 'sse'], noEnv),
    ).toMatchObject({
      definition: { name: 'old', transport: 'sse', url: 'http://127.0.0.1:3001/sse' },
    });
  });

  it('explains every wrong combination of add flags', () => {
    expect(usageError(['servers', 'add', 'x'])).toContain('exactly one of --command');
    expect(usageError(['servers', 'add', 'x', '--command', 'a', '--url', 'http://h'])).toContain(
      'exactly one of --command',
    );
    expect(usageError(['servers', 'add', 'x', '--command', 'a', '--type', 'sse'])).toBe(
      '--type applies to --url servers only',
    );
    expect(usageError(['servers', 'add', 'x', '--url', 'http://h', '--arg', 'a'])).toContain(
      '--command servers only',
    );
    expect(usageError(['servers', 'add', 'x', '--url', 'http://h', '--type', 'ws'])).toContain(
      '--type must be "http"',
    );
    expect(usageError(['servers', 'add', 'x', '--url', 'file:///etc/passwd'])).toContain(
      'invalid server definition: url',
    );
    expect(usageError(['servers', 'add', 'x', '--command', 'a', '--env', 'NOVALUE'])).toContain(
      '--env takes KEY=VALUE',
    );
    expect(usageError(['servers', 'add', 'x', '--command', 'a', '--env', '1X=2'])).toContain(
      '--env takes KEY=VALUE',
    );
    expect(usageError(['servers', 'add', 'x', '--command', 'a', '--arg', '-y'])).toContain(
      "use '--arg=-XYZ'",
    );
  });
});
