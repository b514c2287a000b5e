/**
 * A stand-in for the registry's `/v1/servers` REST API on 127.0.0.1:0 (node:http, in memory), answering as
 * the real one does: records with revisions, 201/204 on writes, RFC 9457 problem details on errors. It also
 * records every request so tests can check what the client sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServerDefinition, type ServerRecord } from '@meshgate/contracts';

export interface FakeRegistry {
  url: string;
  records: Map<string, ServerRecord>;
  requests: Array<{ method: string; url: string; body: string; contentType: string | undefined }>;
  close(): Promise<void>;
}

/** Starts the fake; `respond` may answer a request itself (return true) to simulate faults. */
export async function startFakeRegistry(
  respond?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<FakeRegistry> {
  const records = new Map<string, ServerRecord>();
  const requests: FakeRegistry['requests'] = [];
  let revision = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        contentType: req.headers['content-type'],
      });
      if (respond?.(req, res)) return;
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      const problem = (status: number, detail: string) =>
        res
          .writeHead(status, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'about:blank', title: 'Error', status, detail }));
      const name = /^\/v1\/servers\/([^/]+)$/.exec(req.url ?? '')?.[1];
      if (req.method === 'GET' && req.url === '/v1/servers')
        return json(200, { v: 1, servers: [...records.values()] });
      if (req.method === 'POST' && req.url === '/v1/servers') {
        const parsed = ServerDefinition.safeParse(JSON.parse(body));
        if (!parsed.success) return problem(400, 'invalid server definition');
        if (records.has(parsed.data.name)) return problem(409, `server "${parsed.data.name}" already exists`);
        const record: ServerRecord = {
          v: 1,
          definition: parsed.data,
          revision: ++revision,
          updatedAt: new Date().toISOString(),
        };
        records.set(parsed.data.name, record);
        return json(201, record);
      }
      if (name !== undefined && req.method === 'GET') {
        const record = records.get(name);
        return record ? json(200, record) : problem(404, `server "${name}" does not exist`);
      }
      if (name !== undefined && req.method === 'DELETE') {
        if (!records.delete(name)) return problem(404, `server "${name}" does not exist`);
        return res.writeHead(204).end();
      }
      return problem(404, `no route ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
