/**
 * The feature fixture over stdio (the entry script run with tsx), plus the `crash` tool and the command's
 * independence from the working directory.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ERAS, connectProbe, featureServerStdioCommand, featureSuite, perServerNaming } from '../src/index';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/**
 * Runs the stdio fixture from `cwd` and collects its stdout lines until it exits. `batches[i]` is written
 * once `i` lines came back (so a call waits for the initialize answer); with `endAfter`, stdin is closed
 * once that many lines came back.
 */
function runRaw(
  batches: object[][],
  cwd: string,
  endAfter?: number,
): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const { command, args } = featureServerStdioCommand();
  const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'ignore'] });
  const write = (batch: object[] | undefined) =>
    batch?.forEach((message) => child.stdin.write(`${JSON.stringify(message)}\n`));
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const before = out.split('\n').length - 1;
    out += chunk.toString('utf8');
    const after = out.split('\n').length - 1;
    for (let line = before + 1; line <= after; line += 1) write(batches[line]);
    if (endAfter !== undefined && after >= endAfter) child.stdin.end();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  write(batches[0]);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({
        code,
        lines: out
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      });
    });
  });
}

describe('feature fixture over stdio', () => {
  for (const era of ERAS) {
    describe(`feature suite, protocol ${era}`, () => {
      featureSuite(
        (asked) =>
          connectProbe(new StdioClientTransport({ ...featureServerStdioCommand(), stderr: 'pipe' }), {
            era: asked,
          }),
        { naming: perServerNaming, era, crashable: true },
      );
    });
  }

  it('crash exits with code 1 and answers nothing', async () => {
    const { code, lines } = await runRaw(
      [
        [INIT],
        [
          { jsonrpc: '2.0', method: 'notifications/initialized' },
          { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crash', arguments: {} } },
        ],
      ],
      process.cwd(),
    );
    expect(code).toBe(1);
    expect(lines.map((line) => line['id'])).toEqual([1]);
  });

  it('runs from any working directory and ends when stdin closes', async () => {
    const { code, lines } = await runRaw([[INIT]], tmpdir(), 1);
    expect(code).toBe(0);
    expect(lines[0]?.['result']).toMatchObject({ serverInfo: { name: 'meshgate-fixture' } });
  });
});
