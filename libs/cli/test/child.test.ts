import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeExit, startChild } from '../src/start/child';

function node(name: string, script: string, lines: string[] = []) {
  return startChild({
    name,
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: process.env,
    onLine: (line) => lines.push(line),
  });
}

/** True while `pid` runs (a killed process waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('startChild', () => {
  it('passes every output line, from stdout and stderr, and reports the exit code', async () => {
    const lines: string[] = [];
    const child = node('t', 'console.log("one\\ntwo"); console.error("three"); process.exit(3)', lines);
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(child.hasExited()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.sort()).toEqual(['one', 'three', 'two']);
  });

  it('stops a cooperative child with SIGTERM', async () => {
    const lines: string[] = [];
    const child = node(
      't',
      'process.on("SIGTERM", () => { console.log("bye"); process.exit(0) }); console.log("up"); setInterval(() => {}, 1000)',
      lines,
    );
    await waitFor(() => lines.includes('up'));
    const started = Date.now();
    expect(await child.stop(5000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(lines).toContain('bye');
  });

  it('kills a child that ignores SIGTERM, and its own children, after the grace period', async () => {
    const lines: string[] = [];
    const script = `
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.on('SIGTERM', () => console.log('ignored'));
      console.log('grandchild ' + grandchild.pid);
      setInterval(() => {}, 1000);`;
    const child = node('stubborn', script, lines);
    await waitFor(() => lines.some((l) => l.startsWith('grandchild ')));
    const grandchild = Number(lines.find((l) => l.startsWith('grandchild '))!.split(' ')[1]);
    const started = Date.now();
    const info = await child.stop(300);
    expect(info).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(lines).toContain('ignored');
    await waitFor(() => !alive(grandchild));
    expect(await child.stop(300)).toBe(info);
  });

  it('reports a command that cannot start', async () => {
    const child = startChild({
      name: 'x',
      command: '/nonexistent/binary',
      args: [],
      cwd: '/',
      env: {},
      onLine: () => {},
    });
    const info = await child.exited;
    expect(describeExit(info)).toMatch(/^could not start: spawn \/nonexistent\/binary ENOENT$/);
    expect(await child.stop(100)).toBe(info);
  });

  it('describes exits by code or signal', () => {
    expect(describeExit({ code: 1, signal: null })).toBe('exit code 1');
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('signal SIGKILL');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
