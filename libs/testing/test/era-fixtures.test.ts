/**
 * The era matrix kit on its own, without a gateway: each era's agent against its own era's fixture passes
 * every check its era can express (so a failing matrix cell is the gateway's doing, not the kit's), each
 * fixture speaks its era alone, and agents refuse an endpoint of another era.
 */
import { createServer, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  MATRIX_ERAS,
  MATRIX_FEATURES,
  connectEraAgent,
  matrixFailures,
  runCell,
  startEraUpstream,
  startFeatureServerHttp,
  type EraUpstream,
  type MatrixEra,
} from '../src/index';

const upstreams = new Map<MatrixEra, EraUpstream>();

beforeAll(async () => {
  for (const era of MATRIX_ERAS) upstreams.set(era, await startEraUpstream(era));
});

afterAll(async () => {
  await Promise.all([...upstreams.values()].map((upstream) => upstream.close()));
});

const urlOf = (era: MatrixEra) => upstreams.get(era)!.url;

describe('each era agent against its own era fixture', () => {
  for (const era of MATRIX_ERAS) {
    it(`${era}: every check passes, elicitation n/a only before 2025-06-18`, async () => {
      const result = await runCell({ agent: era, upstream: era, url: urlOf(era), stepTimeoutMs: 10_000 });
      expect(matrixFailures([result])).toEqual([]);
      const na = MATRIX_FEATURES.filter((feature) => result.checks[feature].status === 'n/a');
      expect(na).toEqual(era < '2025-06-18' ? ['elicitation'] : []);
    });
  }
});

describe('each fixture speaks its era alone', () => {
  it('an initialize-era fixture answers initialize with its own version, whatever the client asked', async () => {
    const newer = await connectEraAgent('2025-11-25', urlOf('2025-03-26'));
    const older = await connectEraAgent('2025-03-26', urlOf('2025-11-25'));
    try {
      expect(newer.negotiatedVersion).toBe('2025-03-26');
      expect(older.negotiatedVersion).toBe('2025-11-25');
    } finally {
      await newer.close();
      await older.close();
    }
  });

  it('a cell whose endpoint answers another era fails its handshake and every check after it', async () => {
    const result = await runCell({ agent: '2025-06-18', upstream: '2025-03-26', url: urlOf('2025-03-26') });
    expect(result.checks.handshake).toEqual({
      status: 'fail',
      reason: 'initialize agreed on 2025-03-26, not 2025-06-18',
    });
    expect(result.checks.sampling).toEqual({ status: 'fail', reason: 'not connected (handshake failed)' });
    expect(result.checks.elicitation.status).toBe('n/a');
  });

  it('the 2026-07-28 fixture refuses initialize, and the 2026-07-28 agent refuses a 2025 server', async () => {
    await expect(connectEraAgent('2025-11-25', urlOf('2026-07-28'))).rejects.toThrow();
    await expect(connectEraAgent('2026-07-28', urlOf('2025-11-25'))).rejects.toThrow();
  });

  it('the 2026-07-28 fixture asks for sampling with an input_required result', async () => {
    const response = await fetch(urlOf('2026-07-28'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'sample',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'sample',
          arguments: { prompt: 'hello' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
          },
        },
      }),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { result: Record<string, unknown> };
    expect(answer.result['resultType']).toBe('input_required');
    expect(answer.result['inputRequests']).toMatchObject({ sample: { method: 'sampling/createMessage' } });
  });

  it('the 2024-11-05 fixture is served over legacy HTTP+SSE and the others over Streamable HTTP', () => {
    expect(upstreams.get('2024-11-05')!.transport).toBe('sse');
    expect(urlOf('2024-11-05')).toMatch(/\/sse$/);
    for (const era of MATRIX_ERAS.filter((e) => e !== '2024-11-05'))
      expect(upstreams.get(era)!.transport).toBe('http');
  });
});

describe('a cell never hangs', () => {
  it('an SSE endpoint that never announces where to post fails the handshake in time and is let go', async () => {
    const streams = new Set<ServerResponse>();
    const silent = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': no endpoint event follows\n\n');
      streams.add(res);
      res.on('close', () => streams.delete(res));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await runCell({
        agent: '2024-11-05',
        upstream: '2024-11-05',
        url: `http://127.0.0.1:${port}/sse`,
        stepTimeoutMs: 500,
      });
      expect(result.checks.handshake).toEqual({
        status: 'fail',
        reason: 'the handshake took longer than 500 ms',
      });
      await expect.poll(() => streams.size, { timeout: 2000 }).toBe(0);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a request the endpoint never answers fails its own check in time, and the next checks still run', async () => {
    const stuck = await startFeatureServerHttp({
      protocolVersion: '2025-06-18',
      createServer: () => {
        const server = new Server({ name: 'stuck', version: '1.0.0' }, { capabilities: { tools: {} } });
        server.setRequestHandler(ListToolsRequestSchema, () => new Promise<never>(() => undefined));
        return server;
      },
    });
    try {
      const result = await runCell({
        agent: '2025-06-18',
        upstream: '2025-06-18',
        url: stuck.url,
        stepTimeoutMs: 500,
      });
      expect(result.checks.handshake).toEqual({ status: 'pass' });
      // The agent's own request timeout and the cell's bound are the same: whichever fires first.
      expect(result.checks['tools/list']).toMatchObject({
        status: 'fail',
        reason: expect.stringMatching(/Request timed out|the check took longer than 500 ms/),
      });
      expect(result.checks['resources/read']).toMatchObject({
        status: 'fail',
        reason: expect.stringMatching(/Method not found/),
      });
    } finally {
      await stuck.close();
    }
  });
});
