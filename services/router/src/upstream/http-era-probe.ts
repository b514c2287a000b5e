/**
 * The HTTP probes of era detection, sent outside any connection (their HTTP status matters, which a
 * relayed request does not keep): a 2026-07-28 `server/discover` POST with its headers and `_meta`
 * envelope, and, for `auto` definitions, an initialize POST whose status tells Streamable HTTP from
 * HTTP+SSE (the upstream session it may open is ended at once with DELETE). Both carry the definition's
 * credentials and end within their time limit.
 */
import type { HttpServer, JsonRpcErrorObject } from '@meshgate/contracts';
import { LatestSessionVersion, modernRequestHeaders } from '@meshgate/mcp';
import { discard, eventMessages, isEventStream } from './http-common';
import { httpRequest, type HttpAnswer } from './http-request';
import { readEventStream } from './sse-reader';
import { parseJson } from './transport';
import { sendWithCredentials, type UpstreamCredentials } from './upstream-credentials';
import type { ProbeReply } from './era-detection';

const ProbeId = 'mg-era-probe';
const Accept = 'application/json, text/event-stream';

/** POSTs server/discover with `params` (which carry the envelope) and reads the answer to it. */
export async function probeDiscover(
  def: HttpServer,
  credentials: UpstreamCredentials,
  params: Record<string, unknown>,
  timeoutMs: number,
): Promise<ProbeReply> {
  const message = { jsonrpc: '2.0', id: ProbeId, method: 'server/discover', params };
  const own = { 'content-type': 'application/json', accept: Accept, ...modernRequestHeaders(message) };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await sendWithCredentials(credentials, (headers) =>
      httpRequest(def.url, {
        method: 'POST',
        headers: { ...headers, ...own },
        body: JSON.stringify(message),
        signals: [abort.signal],
      }),
    );
    const answer = await answerIn(res, abort);
    if (answer === undefined) return { kind: 'http', status: res.status };
    return { kind: 'answer', status: res.status, ...answer };
  } catch (err) {
    if (abort.signal.aborted) return { kind: 'timeout' };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** POSTs a 2025 initialize and resolves with the HTTP status; a session it opened is deleted. */
export async function probeInitialize(
  def: HttpServer,
  credentials: UpstreamCredentials,
  version: string,
  timeoutMs: number,
): Promise<number> {
  const message = {
    jsonrpc: '2.0',
    id: ProbeId,
    method: 'initialize',
    params: {
      protocolVersion: LatestSessionVersion,
      capabilities: {},
      clientInfo: { name: 'meshgate', version },
    },
  };
  const res = await sendWithCredentials(credentials, (headers) =>
    httpRequest(def.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: Accept },
      body: JSON.stringify(message),
      timeoutMs,
    }),
  );
  discard(res);
  const session = res.ok ? res.header('mcp-session-id') : undefined;
  if (session !== undefined)
    await sendWithCredentials(credentials, (headers) =>
      httpRequest(def.url, {
        method: 'DELETE',
        headers: { ...headers, 'mcp-session-id': session },
        timeoutMs,
      }),
    )
      .then(discard)
      .catch(() => undefined);
  return res.status;
}

/** The JSON-RPC answer to the probe in a JSON or SSE body, if there is one. */
async function answerIn(
  res: HttpAnswer,
  abort: AbortController,
): Promise<{ result?: unknown; error?: JsonRpcErrorObject } | undefined> {
  if (!isEventStream(res)) return answerOf(parseJson(await res.text()));
  let found: { result?: unknown; error?: JsonRpcErrorObject } | undefined;
  try {
    await readEventStream(
      res.body,
      (event) => {
        for (const m of eventMessages(event) ?? []) found ??= answerOf(m);
        if (found) abort.abort();
      },
      abort.signal,
    );
  } catch (err) {
    if (!found) throw err;
  }
  return found;
}

function answerOf(message: unknown): { result?: unknown; error?: JsonRpcErrorObject } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
  if (m.id !== ProbeId && m.id !== null) return undefined;
  if (typeof m.error?.code === 'number' && typeof m.error.message === 'string')
    return { error: { code: m.error.code, message: m.error.message } };
  return 'result' in m ? { result: m.result } : undefined;
}
