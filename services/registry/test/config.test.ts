/** `loadConfig`: defaults, parsing, and one error naming every bad variable. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@meshgate/config';
import { loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('applies the defaults: loopback admin API on 8081, ./meshgate.yaml, no demo', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      logLevel: 'info',
      host: '127.0.0.1',
      port: 8081,
      configFile: './meshgate.yaml',
      demoUpstream: false,
      bucket: 'mg_registry',
    });
    expect(config.instanceId).toMatch(/^registry-[0-9a-f]{12}$/);
  });

  it('reads every variable and keeps the environment for ${VAR} references', () => {
    const config = loadConfig({
      NATS_URL: 'nats://10.0.0.1:4222',
      LOG_LEVEL: 'debug',
      INSTANCE_ID: 'reg-1',
      REGISTRY_PORT: '0',
      REGISTRY_HOST: '::1',
      MESHGATE_CONFIG: '/etc/meshgate/servers.json',
      MESHGATE_DEMO_UPSTREAM: 'yes',
      GITHUB_TOKEN: 't',
    });
    expect(config).toMatchObject({
      natsUrl: 'nats://10.0.0.1:4222',
      logLevel: 'debug',
      instanceId: 'reg-1',
      port: 0,
      host: '::1',
      configFile: '/etc/meshgate/servers.json',
      demoUpstream: true,
    });
    expect(config.env['GITHUB_TOKEN']).toBe('t');
  });

  it('names every bad variable in one error', () => {
    const attempt = () =>
      loadConfig({
        REGISTRY_PORT: '70000',
        MESHGATE_DEMO_UPSTREAM: 'maybe',
        INSTANCE_ID: 'a.b',
        LOG_LEVEL: 'loud',
      });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/REGISTRY_PORT: must be a port number/);
    expect(attempt).toThrow(/MESHGATE_DEMO_UPSTREAM/);
    expect(attempt).toThrow(/INSTANCE_ID/);
    expect(attempt).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ REGISTRY_PORT: 'http' })).toThrow(/REGISTRY_PORT: must be a port number/);
  });
});
