import { describe, expect, it } from 'vitest';
import { ConfigError } from '@meshgate/config';
import type { ServerDefinition } from '@meshgate/contracts';
import { loadConfig } from '../../src/config';
import { federatedInitializeResult, listBudget } from '../../src/federation-info';
import { childEnv } from '../../src/upstream/stdio-transport';
import { upstreamTimeout } from '../../src/call-context';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig({})).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      logLevel: 'info',
      instanceId: undefined,
      separator: '__',
      listDeadlineMs: 3000,
      restartBackoffMaxMs: 30_000,
      sessionIdleMs: 86_400_000,
      registryBucket: 'mg_registry',
      audit: {
        enabled: true,
        mode: 'fail-open',
        spoolDir: '.meshgate/spool/router',
        spoolMaxBytes: 256 * 1024 ** 2,
        lingerMs: 50,
      },
      policy: { mode: 'enforce', staleMs: 5_000, bucket: 'mg_policies', limitsBucket: 'mg_limits' },
    });
  });

  it('reads the policy variables and rejects bad ones by name', () => {
    expect(loadConfig({ MESHGATE_POLICY: 'off', MESHGATE_POLICY_STALE_MS: '0' }).policy).toMatchObject({
      mode: 'off',
      staleMs: 0,
    });
    expect(() => loadConfig({ MESHGATE_POLICY: 'permissive' })).toThrow(/MESHGATE_POLICY/);
    expect(() => loadConfig({ MESHGATE_POLICY_STALE_MS: '-1' })).toThrow(/MESHGATE_POLICY_STALE_MS/);
  });

  it('reads the audit variables and rejects bad ones by name', () => {
    const c = loadConfig({
      MESHGATE_AUDIT: 'on',
      MESHGATE_AUDIT_MODE: 'fail-closed',
      MESHGATE_AUDIT_SPOOL_DIR: '/var/spool/mg',
      MESHGATE_AUDIT_SPOOL_MAX_BYTES: '1048576',
      MESHGATE_AUDIT_LINGER_MS: '0',
    });
    expect(c.audit).toEqual({
      enabled: true,
      mode: 'fail-closed',
      spoolDir: '/var/spool/mg',
      spoolMaxBytes: 1_048_576,
      lingerMs: 0,
    });
    expect(() => loadConfig({ MESHGATE_AUDIT_LINGER_MS: '5000' })).toThrow(/MESHGATE_AUDIT_LINGER_MS/);
    expect(() => loadConfig({ MESHGATE_AUDIT_MODE: 'sometimes' })).toThrow(/MESHGATE_AUDIT_MODE/);
    expect(() => loadConfig({ MESHGATE_AUDIT: 'maybe' })).toThrow(/MESHGATE_AUDIT/);
  });

  it('reads every variable and rejects bad ones by name', () => {
    const c = loadConfig({
      MESHGATE_NAMESPACE_SEPARATOR: '.',
      ROUTER_LIST_DEADLINE_MS: '500',
      ROUTER_RESTART_BACKOFF_MAX_MS: '1000',
      INSTANCE_ID: 'r-1',
    });
    expect(c).toMatchObject({
      separator: '.',
      listDeadlineMs: 500,
      restartBackoffMaxMs: 1000,
      instanceId: 'r-1',
    });
    expect(() => loadConfig({ MESHGATE_NAMESPACE_SEPARATOR: 'x' })).toThrow(/MESHGATE_NAMESPACE_SEPARATOR/);
    expect(() => loadConfig({ ROUTER_LIST_DEADLINE_MS: 'soon' })).toThrow(ConfigError);
  });
});

const def = (name: string, description?: string) =>
  ({
    name,
    transport: 'stdio',
    command: 'x',
    args: [],
    env: {},
    enabled: true,
    stateful: false,
    timeoutMs: 1000,
    ...(description ? { description } : {}),
  }) as ServerDefinition;

describe('federated initialize', () => {
  it('negotiates, declares the gateway capabilities and lists the servers', () => {
    const r = federatedInitializeResult('2025-03-26', [def('a', 'first\nserver'), def('b')], '__', '1.2.3');
    expect(r).toMatchObject({
      protocolVersion: '2025-03-26',
      serverInfo: { name: 'meshgate', version: '1.2.3' },
    });
    expect(r['instructions']).toBe(
      'Meshgate federates 2 MCP servers. Tool and prompt names are "<server>__<name>"; resource URIs are "<server>+<uri>".\nServers:\n- a: first server\n- b',
    );
  });

  it('declares tasks, which it routes to the upstreams that offer them', () => {
    const r = federatedInitializeResult('2025-11-25', [def('a')], '__', '1');
    expect((r['capabilities'] as Record<string, unknown>)['tasks']).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
  });

  it('bounds list and upstream time by the call deadline', () => {
    expect(listBudget(3000, 10_000, 0)).toBe(3000);
    expect(listBudget(3000, 1000, 0)).toBe(950);
    expect(listBudget(3000, 10, 0)).toBe(0);
    expect(upstreamTimeout(def('a'), 500, 0)).toBe(500);
    expect(upstreamTimeout(def('a'), 5000, 0)).toBe(1000);
  });
});

describe('childEnv', () => {
  it("passes only safe variables of the router and the definition's own", () => {
    const env = childEnv(
      { API_KEY: 'k' },
      { PATH: '/bin', HOME: '/h', NATS_CREDS: 'secret', AWS_SECRET_ACCESS_KEY: 'x' },
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', API_KEY: 'k' });
  });
});
