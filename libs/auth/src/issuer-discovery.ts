/**
 * Fetching what an issuer publishes: the bounded HTTP GET shared by discovery and the JWKS (a size cap,
 * a deadline, no redirects followed), and discovery of an issuer's `jwks_uri` from its OpenID Connect
 * configuration or, failing that, its RFC 8414 authorization server metadata. The metadata must name the
 * configured issuer exactly (RFC 8414 section 3.3) and a secure `jwks_uri`, or it is not used.
 */
import { z } from 'zod';
import { insecureUrlReason } from './jwt-issuers';

/** The fetch the verifier uses; `globalThis.fetch` unless a test supplies one. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Largest metadata document or key set read: far above any real one, well below harm. */
export const MaxDocumentBytes = 256 * 1024;

/** Raised when an issuer's metadata or keys cannot be had; the message is safe to log, not to show. */
export class KeySourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}

/** Reads at most `max` bytes of a body; a longer one is an error. */
async function readBounded(response: Response, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > max) throw new KeySourceError(`the response is larger than ${max} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return new Uint8Array(0);
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > max) throw new KeySourceError(`the response is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A fetch that refuses redirects and bodies over `MaxDocumentBytes` and gives up after `timeoutMs`,
 * answering a fully read copy of the response (what jose's JWKS loader is handed as its fetch).
 */
export function boundedFetch(fetchImpl: FetchLike, timeoutMs: number): FetchLike {
  return async (url, init) => {
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : null;
    const response = await fetchImpl(url, {
      ...init,
      redirect: 'manual',
      signal: signal ?? AbortSignal.timeout(timeoutMs),
    });
    const body = await readBounded(response, MaxDocumentBytes);
    return new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      headers: response.headers,
    });
  };
}

/** The part of issuer metadata (OIDC discovery, RFC 8414) the verifier uses. */
const IssuerMetadata = z.looseObject({ issuer: z.string(), jwks_uri: z.string() });

/** The metadata documents to try for `issuer`, in order: OIDC discovery, then RFC 8414. */
export function metadataUrlsFor(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/** Finds the JWKS URL of `issuer`; throws KeySourceError naming every attempt when none succeeds. */
export async function discoverJwksUri(issuer: string, fetchImpl: FetchLike): Promise<URL> {
  const failures: string[] = [];
  for (const url of metadataUrlsFor(issuer)) {
    try {
      const response = await fetchImpl(url, { method: 'GET', headers: { accept: 'application/json' } });
      if (response.status !== 200) throw new KeySourceError(`HTTP ${response.status}`);
      const parsed = IssuerMetadata.safeParse(JSON.parse(await response.text()));
      if (!parsed.success) throw new KeySourceError('not issuer metadata (issuer and jwks_uri required)');
      if (parsed.data.issuer !== issuer)
        throw new KeySourceError(`it names issuer ${JSON.stringify(parsed.data.issuer)}`);
      const reason = insecureUrlReason(parsed.data.jwks_uri);
      if (reason !== null) throw new KeySourceError(`its jwks_uri ${reason}`);
      return new URL(parsed.data.jwks_uri);
    } catch (err) {
      failures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new KeySourceError(`no usable metadata for issuer ${issuer} (${failures.join('; ')})`);
}
