/**
 * Reading what a client sent to the servers API: the name in the path, the definition in the body and the
 * revision in `If-Match`. Pure functions that throw HttpProblem (400) naming every bad field; unknown
 * fields are refused rather than silently dropped, so a typo never goes unnoticed.
 */
import { HttpServer, ServerDefinition, ServerName, StdioServer } from '@meshgate/contracts';
import type { z } from 'zod';
import { HttpProblem, invalidFields, type FieldProblem } from './problem';

/** The server name of a path, or a 400 naming it. */
export function parseName(raw: string): ServerName {
  const parsed = ServerName.safeParse(raw);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? 'invalid';
  throw invalidFields(`invalid server name ${JSON.stringify(raw.slice(0, 64))}: ${message}`, [
    { pointer: '#/name', detail: message },
  ]);
}

/**
 * The definition in `body`. `pathName` is the name in the path (PUT): the body may omit the name or repeat
 * it, never contradict it. Without a path name (POST) the body must name the server.
 */
export function parseDefinition(body: unknown, pathName?: ServerName): ServerDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpProblem(400, 'the body must be a JSON object holding a server definition');
  const fields = body as Record<string, unknown>;
  if (pathName !== undefined && 'name' in fields && fields['name'] !== pathName)
    throw invalidFields(`name: the body names another server than the path ("${pathName}")`, [
      { pointer: '#/name', detail: 'must match the name in the path' },
    ]);
  const candidate = pathName === undefined ? fields : { ...fields, name: pathName };
  const parsed = ServerDefinition.safeParse(candidate);
  if (!parsed.success) throw invalidBody(parsed.error.issues.map(toFieldIssue));
  const known = new Set(Object.keys((parsed.data.transport === 'stdio' ? StdioServer : HttpServer).shape));
  const unknown = Object.keys(fields).filter((key) => !known.has(key));
  if (unknown.length)
    throw invalidBody(
      unknown.map((key) => ({ path: [key], detail: `unknown field for ${parsed.data.transport} servers` })),
    );
  return parsed.data;
}

/** What `If-Match` asks for: absent, any current revision (`*`), or one revision. */
export type Precondition = { kind: 'none' } | { kind: 'exists' } | { kind: 'revision'; revision: number };

/** Reads `If-Match`: `*`, `"<revision>"` or `<revision>`; anything else is a 400. */
export function parseIfMatch(header: string | string[] | undefined): Precondition {
  if (header === undefined) return { kind: 'none' };
  const value = Array.isArray(header) ? header.join(',') : header;
  const trimmed = value.trim();
  if (trimmed === '*') return { kind: 'exists' };
  const match = /^(?:"(\d{1,15})"|(\d{1,15}))$/.exec(trimmed);
  const digits = match?.[1] ?? match?.[2];
  if (digits === undefined)
    throw new HttpProblem(400, 'If-Match: expected one revision (as returned in ETag) or "*"');
  return { kind: 'revision', revision: Number(digits) };
}

/** The ETag of a revision. */
export function etag(revision: number): string {
  return `"${revision}"`;
}

interface FieldIssue {
  path: string[];
  detail: string;
}

function invalidBody(issues: FieldIssue[]): HttpProblem {
  const summary = issues.map((i) => `${i.path.join('.') || 'body'}: ${i.detail}`).join('; ');
  const errors: FieldProblem[] = issues.map((i) => ({ pointer: pointer(i.path), detail: i.detail }));
  return invalidFields(`invalid server definition: ${summary}`, errors);
}

function toFieldIssue(issue: z.core.$ZodIssue): FieldIssue {
  const detail = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return { path: issue.path.map(String), detail };
}

/** A JSON pointer (RFC 6901) as a URI fragment. */
function pointer(path: string[]): string {
  return `#/${path.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
}
