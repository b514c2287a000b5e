/**
 * The one typed client of Meshgate's admin HTTP APIs, shared by every CLI command (and by anything else
 * that administers a gateway). Answers are validated with the contracts' zod schemas; failures become an
 * ApiError carrying the HTTP status and the problem detail's text, or ApiUnreachable when nothing answered.
 */
import { z } from 'zod';
import {
  RegistryListReply,
  ServerRecord,
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

  /** Sends one request; validates a 2xx JSON answer with `schema` (`null`: the body is ignored). */
  async call<S extends z.ZodType>(
    method: Method,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>>;
  async call(method: Method, path: string, schema: null, body?: unknown): Promise<void>;
  async call(method: Method, path: string, schema: z.ZodType | null, body?: unknown): Promise<unknown> {
    const url = `${this.opts.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ApiUnreachable(`cannot reach ${this.opts.baseUrl}: ${networkReason(err, this.timeoutMs)}`);
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, `${method} ${path}: ${problemText(res, text)}`);
    if (schema === null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, `${method} ${path}: the answer is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid';
      throw new ApiError(res.status, `${method} ${path}: unexpected answer (${where})`);
    }
    return parsed.data;
  }
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
