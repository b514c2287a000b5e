/**
 * Arguments as the audit trail keeps them (ADR 003): the SHA-256 digest of their RFC 8785 canonical form,
 * which proves what was received without revealing it, and a redacted, size-bounded copy for readers.
 * Pure and total: any input yields a valid `AuditArguments`, deep or huge input is cut with markers.
 */
import type { AuditArguments } from '@meshgate/contracts';
import { boundedCopy, type CopyLimits } from './bounded-copy';
import { canonicalJson } from './canonical';
import { sha256Hex } from './sha256';

/** Bounds of the redacted copy; the defaults keep an event far below the NATS payload limit. */
export interface RedactionLimits {
  maxDepth: number;
  maxStringChars: number;
  maxEntries: number;
  maxBytes: number;
}

export const DefaultRedactionLimits: RedactionLimits = {
  maxDepth: 12,
  maxStringChars: 1024,
  maxEntries: 100,
  maxBytes: 16 * 1024,
};

/**
 * What the digest covers: the arguments as received. JSON-parsed input passes unchanged; only what RFC 8785
 * cannot encode is normalised first (lone surrogates, non-finite numbers, cycles, nesting past 256 levels).
 */
export const DigestLimits: CopyLimits = {
  maxDepth: 256,
  maxStringChars: Infinity,
  maxEntries: Infinity,
  maxBytes: Infinity,
  redact: false,
};

/** `sha256:<hex>` of the canonical JSON of `args`. */
export function argumentsDigest(args: unknown): string {
  return `sha256:${sha256Hex(digestText(args))}`;
}

/**
 * The canonical text the digest covers. JSON-parsed arguments have one as they are (their copy within
 * `DigestLimits` would be equal to them), so they are written without a copy; whatever has none (a lone
 * surrogate, a non-finite number, a cycle, nesting too deep) is normalised by the copy first.
 */
function digestText(args: unknown): string {
  try {
    return canonicalJson(args, DigestLimits.maxDepth);
  } catch {
    return canonicalJson(boundedCopy(args, DigestLimits));
  }
}

/** The digest and the redacted, bounded copy of a request's arguments. */
export function auditArguments(args: unknown, limits: Partial<RedactionLimits> = {}): AuditArguments {
  return {
    digest: argumentsDigest(args),
    redacted: boundedCopy(args, { ...DefaultRedactionLimits, ...limits, redact: true }),
  };
}
