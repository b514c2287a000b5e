/**
 * The configuration file loader: both formats, both kinds of mcpServers entries, Meshgate's extras,
 * environment references, and the exact wording of every error (file, server, field).
 */
import { describe, expect, it } from 'vitest';
import { ConfigFileError, formatOf, parseConfigFile } from '../src/config-file';

const env = { GITHUB_TOKEN: 'ghp_secret', WORKDIR: '/srv/work' };

/** The problems the loader reports for `text`, or a failure when it accepts it. */
function problems(file: string, text: string): string[] {
  try {
    parseConfigFile(file, text, env);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.problems;
    throw err;
  }
  throw new Error('the file was accepted');
}

describe('parseConfigFile', () => {
  it('reads the JSON of desktop clients: a local process and a remote server without type', () => {
    const servers = parseConfigFile(
      'claude_desktop_config.json',
      JSON.stringify({
        mcpServers: {
          filesystem: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
            env: { DEBUG: '1' },
          },
          github: {
            url: 'https://api.githubcopilot.com/mcp/',
            headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' },
          },
        },
      }),
      env,
    );
    expect(servers).toEqual([
      {
        name: 'filesystem',
        transport: 'stdio',
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
        env: { DEBUG: '1' },
        enabled: true,
        stateful: false,
        timeoutMs: 60_000,
      },
      {
        name: 'github',
        transport: 'streamable-http',
        url: 'https://api.githubcopilot.com/mcp/',
        headers: { Authorization: 'Bearer ghp_secret' },
        enabled: true,
        stateful: false,
        timeoutMs: 60_000,
      },
    ]);
  });

  it('reads YAML with every transport type and the Meshgate extras', () => {
    const yaml = `
mcpServers:
  legacy:
    url: http://127.0.0.1:3001/sse
    type: sse
    disabled: true
  modern:
    url: https://mcp.example.com/mcp
    type: http
    timeoutMs: 5000
  explicit:
    url: https://mcp.example.com/mcp
    type: streamable-http
  tool:
    type: stdio
    command: node
    args: [server.js, --port, 8080]
    env: { PORT: 8080, VERBOSE: true }
    cwd: \${WORKDIR}
    stateful: true
    description: A local tool
`;
    const servers = parseConfigFile('meshgate.yaml', yaml, env);
    expect(servers.map((s) => [s.name, s.transport, s.enabled])).toEqual([
      ['legacy', 'sse', false],
      ['modern', 'streamable-http', true],
      ['explicit', 'streamable-http', true],
      ['tool', 'stdio', true],
    ]);
    expect(servers[1]?.timeoutMs).toBe(5000);
    expect(servers[3]).toMatchObject({
      args: ['server.js', '--port', '8080'],
      env: { PORT: '8080', VERBOSE: 'true' },
      cwd: '/srv/work',
      stateful: true,
      description: 'A local tool',
    });
  });

  it('accepts an empty map and sniffs the format of a file without a known extension', () => {
    expect(parseConfigFile('servers.conf', '{ "mcpServers": {} }', env)).toEqual([]);
    expect(parseConfigFile('servers.conf', 'mcpServers: {}\n', env)).toEqual([]);
    expect(formatOf('x.JSON', 'a: b')).toBe('json');
    expect(formatOf('x.yml', '{}')).toBe('yaml');
    expect(formatOf('config', '  \n {"a":1}')).toBe('json');
    expect(formatOf('config', 'a: 1')).toBe('yaml');
  });

  it('names the file, the server and the field of each problem, and lists them all', () => {
    const yaml = `
mcpServers:
  github:
    url: not a url
  slow:
    command: node
    timeoutMs: 5
  9lives:
    command: cat
  secret:
    url: https://x.example/mcp
    headers: { Authorization: "Bearer \${MISSING_TOKEN}", "bad header": x }
  typo:
    command: node
    argz: [a]
`;
    expect(problems('meshgate.yaml', yaml)).toEqual([
      'meshgate.yaml: server "github": url: Invalid URL',
      'meshgate.yaml: server "slow": timeoutMs: Too small: expected number to be >=100',
      'meshgate.yaml: server "9lives": name: must start with a letter and hold only letters, digits and "-" (max 63)',
      'meshgate.yaml: server "secret": headers.Authorization: environment variable "MISSING_TOKEN" is not set',
      'meshgate.yaml: server "typo": unknown field "argz"',
    ]);
  });

  it('explains entries that mix or lack the two kinds', () => {
    const json = JSON.stringify({
      mcpServers: {
        both: { command: 'x', url: 'https://x.example' },
        neither: { args: ['a'] },
        remoteArgs: { url: 'https://x.example', args: ['a'], cwd: '/' },
        localHeaders: { command: 'x', headers: { A: 'b' }, type: 'sse' },
        stdioUrl: { url: 'https://x.example', type: 'stdio' },
        badType: { url: 'https://x.example', type: 'websocket' },
        ftp: { url: 'ftp://x.example' },
      },
    });
    expect(problems('meshgate.json', json)).toEqual([
      'meshgate.json: server "both": give either command (a local process) or url (a remote server), not both',
      'meshgate.json: server "neither": needs either command (a local process) or url (a remote server)',
      'meshgate.json: server "remoteArgs": args: applies only to local processes (command)',
      'meshgate.json: server "remoteArgs": cwd: applies only to local processes (command)',
      'meshgate.json: server "localHeaders": headers: applies only to remote servers (url)',
      'meshgate.json: server "localHeaders": type: "sse" needs a url, not a command',
      'meshgate.json: server "stdioUrl": type: "stdio" needs a command, not a url',
      expect.stringMatching(/^meshgate\.json: server "badType": type: Invalid option/),
      'meshgate.json: server "ftp": url: Invalid URL',
    ]);
  });

  it('reports a header name that HTTP cannot carry and a wrongly typed field', () => {
    const json = '{"mcpServers":{"h":{"url":"https://x.example","headers":{"a b":"c"},"stateful":"yes"}}}';
    expect(problems('m.json', json)).toEqual([
      'm.json: server "h": stateful: Invalid input: expected boolean, received string',
    ]);
    const header = '{"mcpServers":{"h":{"url":"https://x.example","headers":{"a b":"c"}}}}';
    expect(problems('m.json', header)).toEqual(['m.json: server "h": headers.a b: invalid header name']);
  });

  it('reports unreadable documents and wrong top-level shapes', () => {
    expect(problems('m.json', '{"mcpServers": ')[0]).toMatch(/^m\.json: not valid JSON: /);
    expect(problems('m.yaml', 'mcpServers:\n  a: [1, 2\n')[0]).toMatch(/^m\.yaml: not valid YAML: /);
    expect(problems('m.yaml', 'mcpServers:\n  a: {command: x}\n  a: {command: y}\n')[0]).toMatch(
      /^m\.yaml: not valid YAML: Map keys must be unique/,
    );
    expect(problems('m.yaml', '')).toEqual([
      'm.yaml: (top level): the file must hold an object with an "mcpServers" map',
    ]);
    expect(problems('m.json', '[]')).toEqual([
      'm.json: (top level): the file must hold an object with an "mcpServers" map',
    ]);
    expect(problems('m.json', '{"servers": {}}')).toEqual([
      'm.json: mcpServers: must be a map of server names to servers',
      'm.json: (top level): unknown field "servers" (expected mcpServers)',
    ]);
    expect(problems('m.json', '{"mcpServers": []}')).toEqual([
      'm.json: mcpServers: must be a map of server names to servers',
    ]);
  });

  it('refuses hostile server names without echoing them unbounded', () => {
    const long = `a${'b'.repeat(500)}`;
    const json = JSON.stringify({
      mcpServers: { 'a.b': { command: 'x' }, ['__proto__']: { command: 'x' }, [long]: { command: 'x' } },
    });
    const found = problems('m.json', json);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^m\.json: server "a\.b": name: must start with a letter/);
    expect(found.every((p) => p.length < 250)).toBe(true);
  });

  it('puts every problem into the error message', () => {
    const err = (() => {
      try {
        parseConfigFile('m.json', '{"mcpServers":{"a":{"url":"x"},"b":{"command":""}}}', env);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err?.message).toBe(
      'm.json: 2 problems:\nm.json: server "a": url: Invalid URL\nm.json: server "b": command: Too small: expected string to have >=1 characters',
    );
  });
});
