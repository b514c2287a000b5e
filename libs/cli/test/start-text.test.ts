import { describe, expect, it } from 'vitest';
import { ConfigError } from '@meshgate/config';
import { clientConfig, readyBanner } from '../src/start/banner';
import { formatLogLine } from '../src/start/log-format';
import { baseUrl, clientHost, natsEndpoint, startConfig } from '../src/start/start-config';
import { Services } from '../src/start/services';

describe('formatLogLine', () => {
  const time = new Date(2026, 10, 24, 9, 5, 7).getTime();

  it('shows pino lines as time, level, message and the remaining fields', () => {
    const line = JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: 'h',
      service: 'router',
      msg: 'upstream connected',
      server: 'everything',
      ms: 12,
    });
    expect(formatLogLine(line, false)).toBe('09:05:07 INFO  upstream connected server=everything ms=12');
  });

  it('shows an error by its message and quotes values with spaces', () => {
    const line = JSON.stringify({
      level: 50,
      time,
      msg: 'call failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' },
      why: 'a b',
    });
    expect(formatLogLine(line, false)).toBe('09:05:07 ERROR call failed err="boom" why="a b"');
  });

  it('passes other lines, and every line with json on, unchanged', () => {
    expect(formatLogLine('plain text', false)).toBe('plain text');
    expect(formatLogLine('{not json', false)).toBe('{not json');
    expect(formatLogLine('{"no":"level"}', false)).toBe('{"no":"level"}');
    const pino = JSON.stringify({ level: 30, time, msg: 'x' });
    expect(formatLogLine(pino, true)).toBe(pino);
  });

  it('bounds long values', () => {
    const line = JSON.stringify({ level: 40, time, msg: 'big', data: 'x'.repeat(1000) });
    expect(formatLogLine(line, false).length).toBeLessThan(340);
  });
});

describe('start configuration', () => {
  it('reads defaults and resolves the servers file against the working directory', () => {
    expect(startConfig({}, '/home/me')).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      nats: { host: '127.0.0.1', port: 4222, local: true },
      ingress: { host: '127.0.0.1', port: 8080 },
      registry: { host: '127.0.0.1', port: 8081 },
      audit: { host: '127.0.0.1', port: 8082 },
      policy: { host: '127.0.0.1', port: 8083 },
      auth: 'on',
      configPath: '/home/me/meshgate.yaml',
      stateDir: '/home/me/.meshgate',
    });
    const custom = startConfig(
      {
        PORT: '9000',
        AUDIT_PORT: '9002',
        MESHGATE_CONFIG: '/etc/mg.json',
        MESHGATE_STATE_DIR: 'state',
        NATS_URL: 'localhost:4333',
      },
      '/x',
    );
    expect(custom).toMatchObject({
      ingress: { port: 9000 },
      audit: { port: 9002 },
      configPath: '/etc/mg.json',
      stateDir: '/x/state',
      nats: { port: 4333, local: true },
    });
  });

  it('starts the audit archiver before router and ingress, with their state under the state dir', () => {
    const ctx = { config: startConfig({ AUDIT_PORT: '9002' }, '/home/me'), demo: false };
    expect(Services.map((s) => s.name)).toEqual(['registry', 'policy', 'audit', 'router', 'ingress']);
    const byName = new Map(Services.map((s) => [s.name, s]));
    expect(byName.get('audit')?.env(ctx)).toMatchObject({
      AUDIT_PORT: '9002',
      MESHGATE_AUDIT_DATA_DIR: '/home/me/.meshgate/audit',
    });
    expect(byName.get('audit')?.readiness(ctx)).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:9002/readyz',
    });
    expect(byName.get('router')?.env(ctx)['MESHGATE_AUDIT_SPOOL_DIR']).toBe(
      '/home/me/.meshgate/spool/router',
    );
    expect(byName.get('ingress')?.env(ctx)['MESHGATE_AUDIT_SPOOL_DIR']).toBe(
      '/home/me/.meshgate/spool/ingress',
    );
  });

  it('takes MESHGATE_API_KEY only when it is a Meshgate API key, and never echoes it', () => {
    const key = `mgk_0123456789abcdef_${'A'.repeat(43)}`;
    expect(startConfig({ MESHGATE_API_KEY: key }, '/').apiKey).toBe(key);
    expect(startConfig({ MESHGATE_API_KEY: '' }, '/').apiKey).toBeUndefined();
    expect(() => startConfig({ MESHGATE_API_KEY: 'hunter2-hunter2' }, '/')).toThrow(
      /MESHGATE_API_KEY: is not a Meshgate API key/,
    );
    expect(() => startConfig({ MESHGATE_API_KEY: 'hunter2-hunter2' }, '/')).not.toThrow(/hunter2/);
  });

  it('names every bad variable', () => {
    expect(() => startConfig({ PORT: 'http', REGISTRY_PORT: '70000' }, '/')).toThrow(ConfigError);
    expect(() => startConfig({ PORT: 'http', REGISTRY_PORT: '70000' }, '/')).toThrow(
      /PORT[\s\S]*REGISTRY_PORT/,
    );
  });

  it('parses NATS URLs and tells local from remote servers', () => {
    expect(natsEndpoint('nats://nats.prod:4222,nats://other:4222')).toEqual({
      host: 'nats.prod',
      port: 4222,
      local: false,
    });
    expect(natsEndpoint('nats://[::1]:5000')).toEqual({ host: '[::1]', port: 5000, local: true });
    expect(natsEndpoint('tls://127.0.0.1')).toEqual({ host: '127.0.0.1', port: 4222, local: true });
    expect(() => natsEndpoint('nats://bad host')).toThrow(ConfigError);
  });

  it('prints wildcard listeners as loopback addresses', () => {
    expect(clientHost('0.0.0.0')).toBe('127.0.0.1');
    expect(clientHost('::1')).toBe('[::1]');
    expect(baseUrl({ host: '::', port: 8080 })).toBe('http://127.0.0.1:8080');
  });
});

describe('readyBanner', () => {
  it('prints the endpoints, the servers and a client configuration that parses', () => {
    const text = readyBanner({
      ingressUrl: 'http://127.0.0.1:8080',
      registryUrl: 'http://127.0.0.1:8081',
      servers: [
        { name: 'everything', transport: 'stdio', enabled: true },
        { name: 'old', transport: 'sse', enabled: false },
      ],
      adminKey: { kind: 'existing' },
      auth: 'on',
    });
    expect(text).toContain('MCP endpoint (all servers, federated):  http://127.0.0.1:8080/mcp');
    expect(text).toContain('http://127.0.0.1:8080/servers/<name>/mcp');
    expect(text).toContain('Upstream servers: everything (stdio), old (sse, disabled)');
    expect(text).toContain(
      'npx @modelcontextprotocol/inspector --transport http --server-url http://127.0.0.1:8080/mcp',
    );
    const config = text.split('\n').find((line) => line.includes('mcpServers'))!;
    expect(JSON.parse(config)).toEqual({
      mcpServers: {
        meshgate: {
          type: 'http',
          url: 'http://127.0.0.1:8080/mcp',
          headers: { Authorization: 'Bearer <agent API key>' },
        },
      },
    });
    expect(text).toContain(
      'meshgate keys create --tenant default --principal my-agent --kind agent --role agent',
    );
    expect(clientConfig('u')).toBe('{"mcpServers":{"meshgate":{"type":"http","url":"u"}}}');
  });

  it('says loudly when authentication is off, and asks for no key then', () => {
    const text = readyBanner({
      ingressUrl: 'http://h:1',
      registryUrl: 'http://h:2',
      servers: [],
      adminKey: { kind: 'existing' },
      auth: 'none',
    });
    const config = text.split('\n').find((line) => line.includes('mcpServers'))!;
    expect(JSON.parse(config)).toEqual({ mcpServers: { meshgate: { type: 'http', url: 'http://h:1/mcp' } } });
    expect(text).toContain('Authentication is OFF (MESHGATE_AUTH=none)');
  });

  it('says when there are no servers, or when they could not be listed', () => {
    const base = {
      ingressUrl: 'http://h:1',
      registryUrl: 'http://h:2',
      adminKey: { kind: 'existing' } as const,
      auth: 'on' as const,
    };
    expect(readyBanner({ ...base, servers: [] })).toContain('none yet. Add one with: meshgate servers add');
    expect(readyBanner({ ...base, servers: null })).toContain('could not be listed');
  });

  it('shows a created admin key once, clearly, and never a key it did not create', () => {
    const base = { ingressUrl: 'http://h:1', registryUrl: 'http://h:2', servers: [], auth: 'on' as const };
    const key = `mgk_0123456789abcdef_${'A'.repeat(43)}`;
    const created = readyBanner({ ...base, adminKey: { kind: 'created', apiKey: key } }).split('\n');
    expect(created.filter((line) => line.includes(key))).toEqual([`admin API key (shown once): ${key}`]);
    expect(created.indexOf(`admin API key (shown once): ${key}`)).toBeGreaterThan(
      created.findIndex((line) => line.includes('mcpServers')),
    );
    const fromEnv = readyBanner({ ...base, adminKey: { kind: 'from-env' } });
    expect(fromEnv).toContain('admin API key: the one in MESHGATE_API_KEY');
    expect(fromEnv).not.toContain('mgk_');
    expect(readyBanner({ ...base, adminKey: { kind: 'existing' } })).toContain(
      'admin API key: created on an earlier run and shown then',
    );
  });
});
