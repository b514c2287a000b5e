/**
 * The one typed client of Meshgate's admin HTTP APIs, shared by every CLI command (and by anything else
 * that administers a gateway). Answers are validated with the contracts' zod schemas; failures become an
 * ApiError carrying the HTTP status and the problem detail's text, or ApiUnreachable when nothing answered.
 */
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import {
  ApiKeyList,
  AuditEvent,
  IssuedApiKey,
  RegistryListReply,
  RevokedApiKey,
  ServerRecord,
  type AuditKind,
  type AuditOutcome,
  type CreateApiKeyInput,
  type RotateApiKeyRequest,
  type ServerDefinitionInput,
  type ServerName,
} from '@meshgate/contracts';

/** The API answered with an error status, or with a body that breaks its contract. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Nothing answered at the API's address within the time allowed. */
export class ApiUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiUnreachable';
  }
}

/** RFC 9457 problem details, as the admin APIs send them on errors. */
const Problem = z.looseObject({ title: z.string().optional(), detail: z.string().optional() });

export interface ApiClientOptions {
  /** Base URL of the API, without a trailing slash (`http://127.0.0.1:8081`). */
  baseUrl: string;
  /** Budget of one request; 10 s by default. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer <API key>`. */
  apiKey?: string;
}

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** One archived audit event with its link in the tenant's hash chain (as the audit API answers it). */
export const AuditRecord = z.object({
  v: z.literal(1),
  event: AuditEvent,
  link: z.object({ seq: z.number().int().positive(), prevHash: Sha256Hex, hash: Sha256Hex }),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** A page of `GET /v1/audit/events`. */
export const AuditEventsPage = z.object({ events: z.array(AuditRecord), nextCursor: z.string().nullable() });
export type AuditEventsPage = z.infer<typeof AuditEventsPage>;

/** The verification report of `GET /v1/audit/verify` (200 when `ok`, 409 otherwise). */
export const AuditVerifyReport = z.object({
  tenant: z.string(),
  ok: z.boolean(),
  checked: z.number().int().nonnegative(),
  headSeq: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  findings: z.array(
    z.object({
      seq: z.number().int().positive(),
      eventId: z.string().nullable(),
      problem: z.enum(['changed', 'removed', 'inserted', 'bad-checkpoint']),
    }),
  ),
  publicKey: z.string(),
});
export type AuditVerifyReport = z.infer<typeof AuditVerifyReport>;

/** The filters of the audit API's reads; `tenant` is required. */
export interface AuditFilters {
  tenant: string;
  from?: string;
  to?: string;
  principal?: string;
  server?: string;
  target?: string;
  kind?: AuditKind;
  outcome?: AuditOutcome;
  traceId?: string;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A client of one Meshgate admin API. */
export class ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly opts: ApiClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** The registry's catalogue of upstream servers. */
  readonly servers = {
    list: async (): Promise<ServerRecord[]> =>
      (await this.call('GET', '/v1/servers', RegistryListReply)).servers,
    get: (name: ServerName): Promise<ServerRecord> => this.call('GET', `/v1/servers/${name}`, ServerRecord),
    /** Creates a server; fails with 409 when one of that name exists. */
    add: (definition: ServerDefinitionInput): Promise<ServerRecord> =>
      this.call('POST', '/v1/servers', ServerRecord, definition),
    /** Creates or replaces the server `definition.name`. */
    put: (definition: ServerDefinitionInput): Promise<ServerRecord> =>
      this.call('PUT', `/v1/servers/${definition.name}`, ServerRecord, definition),
    remove: async (name: ServerName): Promise<void> => {
      await this.call('DELETE', `/v1/servers/${name}`, null);
    },
  };

  /** The API keys admin API (ingress): issue, list, rotate, revoke. Issued keys' text is in the answer once. */
  readonly keys = {
    create: (request: CreateApiKeyInput): Promise<IssuedApiKey> =>
      this.call('POST', '/admin/v1/keys', IssuedApiKey, request),
    /** The keys of `tenant`, or of the caller's own tenant. */
    list: (tenant?: string): Promise<ApiKeyList> =>
      this.call(
        'GET',
        `/admin/v1/keys${tenant === undefined ? '' : `?${queryString({ tenant })}`}`,
        ApiKeyList,
      ),
    rotate: (keyId: string, options: RotateApiKeyRequest = {}): Promise<IssuedApiKey> =>
      this.call('POST', `/admin/v1/keys/${encodeURIComponent(keyId)}/rotate`, IssuedApiKey, options),
    revoke: (keyId: string): Promise<RevokedApiKey> =>
      this.call('DELETE', `/admin/v1/keys/${encodeURIComponent(keyId)}`, RevokedApiKey),
  };

  /** The audit API: query, verify, and the live tail. */
  readonly audit = {
    /** One page of matching records; pass the previous page's `nextCursor` to continue. */
    query: (
      filters: AuditFilters,
      page: { cursor?: string; limit?: number } = {},
    ): Promise<AuditEventsPage> =>
      this.call('GET', `/v1/audit/events?${queryString({ ...filters, ...page })}`, AuditEventsPage),
    /** The verification report of `tenant`, whether the chain verifies or not. */
    verify: async (tenant: string): Promise<AuditVerifyReport> => {
      const path = `/v1/audit/verify?${queryString({ tenant })}`;
      const res = await this.send('GET', path, 'application/json', this.timeoutMs);
      const text = await res.text();
      if (res.status !== 200 && res.status !== 409)
        throw new ApiError(res.status, `GET /v1/audit/verify: ${problemText(res, text)}`);
      return parseAnswer(res.status, 'GET /v1/audit/verify', text, AuditVerifyReport);
    },
    /**
     * Follows the live tail: calls `onRecord` for each record archived from now on, until the server ends
     * the stream or `signal` aborts (then it resolves).
     */
    tail: async (filters: AuditFilters, onRecord: (r: AuditRecord) => void, signal?: AbortSignal) => {
      const path = `/v1/audit/tail?${queryString({ ...filters })}`;
      const res = await this.send('GET', path, 'text/event-stream', null, signal);
      if (!res.ok)
        throw new ApiError(res.status, `GET /v1/audit/tail: ${problemText(res, await res.text())}`);
      let failure: ApiError | undefined;
      const parser = createParser({
        onEvent: (e) => {
          if (e.event === 'audit')
            onRecord(parseAnswer(res.status, 'GET /v1/audit/tail', e.data, AuditRecord));
          else if (e.event === 'error') failure = new ApiError(502, `GET /v1/audit/tail: ${e.data}`);
        },
      });
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body ?? []) {
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
          if (failure) throw failure;
        }
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
    },
  };

  /** Sends one request; validates a 2xx JSON answer with `schema` (`null`: the body is ignored). */
  async call<S extends z.ZodType>(
    method: Method,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>>;
  async call(method: Method, path: string, schema: null, body?: unknown): Promise<void>;
  async call(method: Method, path: string, schema: z.ZodType | null, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, 'application/json', this.timeoutMs, undefined, body);
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, `${method} ${path}: ${problemText(res, text)}`);
    if (schema === null) return undefined;
    return parseAnswer(res.status, `${method} ${path}`, text, schema);
  }

  /** Fetches with the API key; `timeoutMs` null: no time limit (streams). Network failures become ApiUnreachable. */
  private async send(
    method: Method,
    path: string,
    accept: string,
    timeoutMs: number | null,
    signal?: AbortSignal,
    body?: unknown,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.apiKey !== undefined) headers['authorization'] = `Bearer ${this.opts.apiKey}`;
    const signals = [
      ...(signal ? [signal] : []),
      ...(timeoutMs === null ? [] : [AbortSignal.timeout(timeoutMs)]),
    ];
    try {
      return await fetch(`${this.opts.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (err) {
      throw new ApiUnreachable(`cannot reach ${this.opts.baseUrl}: ${networkReason(err, timeoutMs ?? 0)}`);
    }
  }
}

/** Parses `text` as JSON and validates it with `schema`; an ApiError naming the first issue otherwise. */
function parseAnswer<S extends z.ZodType>(status: number, what: string, text: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(status, `${what}: the answer is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid';
    throw new ApiError(status, `${what}: unexpected answer (${where})`);
  }
  return parsed.data;
}

function queryString(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) q.set(key, String(value));
  return q.toString();
}

function problemText(res: Response, text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const problem = Problem.safeParse(parsed);
  const detail = problem.success ? (problem.data.detail ?? problem.data.title) : undefined;
  return `${res.status} ${detail ?? (res.statusText || 'error')}`;
}

function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError')
    return `no answer within ${timeoutMs / 1000} s`;
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
