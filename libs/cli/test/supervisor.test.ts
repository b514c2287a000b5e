import { describe, expect, it } from 'vitest';
import { startChild } from '../src/start/child';
import { Supervisor } from '../src/start/supervisor';

const up = new Set<string>();

function service(name: string, script: string) {
  const onLine = (line: string) => void (line === 'up' && up.add(name));
  return startChild({
    name,
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: process.env,
    onLine,
  });
}

/** A service that stops cleanly on SIGTERM and says "up" once it would. */
const longRunning =
  'process.on("SIGTERM", () => process.exit(0)); console.log("up"); setInterval(() => {}, 1000)';

async function allUp(names: string[]): Promise<void> {
  for (let i = 0; i < 250 && !names.every((n) => up.has(n)); i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('Supervisor', () => {
  it('turns the first stop signal into an orderly stop in reverse start order', async () => {
    const said: string[] = [];
    const supervisor = new Supervisor((line) => said.push(line), 2000);
    const before = process.listenerCount('SIGINT');
    supervisor.install();
    try {
      for (const name of ['registry', 'router', 'ingress']) supervisor.add(service(name, longRunning));
      await allUp(['registry', 'router', 'ingress']);
      const death = supervisor.nextDeath();
      process.emit('SIGINT', 'SIGINT');
      process.emit('SIGTERM', 'SIGTERM');
      expect(await death).toBeNull();
      expect(supervisor.stopSignal).toBe('SIGINT');
      expect(supervisor.reasonToGiveUp(null)).toBe('stopped by the user');
    } finally {
      await supervisor.stopAll();
    }
    expect(said).toEqual([
      'SIGINT received: stopping',
      'ingress stopped (exit code 0)',
      'router stopped (exit code 0)',
      'registry stopped (exit code 0)',
    ]);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('names the child that died, and why waiting for another is pointless', async () => {
    const said: string[] = [];
    const supervisor = new Supervisor((line) => said.push(line), 2000);
    supervisor.install();
    const registry = service('registry', longRunning);
    const router = service('router', 'setTimeout(() => process.exit(7), 600)');
    supervisor.add(registry);
    supervisor.add(router);
    try {
      await allUp(['registry']);
      expect(supervisor.reasonToGiveUp(router)).toBeNull();
      const death = await supervisor.nextDeath();
      expect(death?.[0]).toBe(router);
      expect(death?.[1]).toEqual({ code: 7, signal: null });
      expect(supervisor.reasonToGiveUp(router)).toBe('exited before it was ready');
      expect(supervisor.reasonToGiveUp(registry)).toBe('router exited meanwhile');
      expect(await supervisor.firstExit()).toBe('exit code 7');
    } finally {
      await supervisor.stopAll();
    }
    expect(said).toEqual(['registry stopped (exit code 0)']);
    expect(supervisor.stopSignal).toBeNull();
  });
});
