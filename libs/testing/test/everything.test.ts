/**
 * The reference server-everything, run as a second upstream over stdio and over Streamable HTTP.
 */
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { everythingStdioCommand, firstText, startEverythingHttp, tcpAnswers } from '../src/index';

async function exercise(transport: Transport): Promise<void> {
  const client = new Client({ name: 'everything-probe', version: '1.0.0' });
  try {
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toMatch(/everything/i);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(firstText(await client.callTool({ name: 'echo', arguments: { message: 'hi there' } }))).toBe(
      'Echo: hi there',
    );
  } finally {
    await client.close();
  }
}

describe('server-everything fixture', () => {
  it('serves over stdio', async () => {
    await exercise(new StdioClientTransport({ ...everythingStdioCommand(), stderr: 'pipe' }));
  });

  it('serves over Streamable HTTP on a free loopback port and stops', async () => {
    const everything = await startEverythingHttp();
    try {
      await exercise(new StreamableHTTPClientTransport(new URL(everything.url)));
    } finally {
      await everything.stop();
    }
    expect(await tcpAnswers('127.0.0.1', Number(new URL(everything.url).port))).toBe(false);
  });
});
