/**
 * Verification of a tenant's trail (ADR 003): walks the records in seq order, recomputes every hash and
 * follows every prevHash, checks each signed checkpoint and the chain head. A changed event breaks its own
 * hash; a removed one leaves a seq gap (or a head beyond the last record); an inserted one shares a seq with
 * the genuine record or does not fit the chain. Each finding names the seq and, when known, the event id.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { ArchiveRecord, AuditArchive, Checkpoint, StoredChainHead } from '@meshgate/store';
import { claimWritten } from './archiver';
import { GENESIS_HASH, linkHolds } from './chain';
import { verifyCheckpoint } from './checkpoint';

/** One problem found in a chain. `eventId` is null where no record remains to name (a removal). */
export const Finding = z.object({
  seq: z.number().int().positive(),
  eventId: z.string().nullable(),
  problem: z.enum(['changed', 'removed', 'inserted', 'bad-checkpoint']),
});
export type Finding = z.infer<typeof Finding>;

/** The outcome of a verification: `checked` records read, `ok` when nothing was found. */
export const VerifyReport = z.object({
  tenant: z.string(),
  ok: z.boolean(),
  checked: z.number().int().nonnegative(),
  headSeq: z.number().int().nonnegative(),
  checkpoints: z.number().int().nonnegative(),
  /** The first seq still held: 1, or later when retention has expired the records before it. */
  firstSeq: z.number().int().positive(),
  findings: z.array(Finding),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

const PAGE = 1_000;
const CLAIM_WAIT_MS = 2_000;

/** How old records may legitimately be gone: the archive's retention (0: records are kept forever). */
export interface VerifyOptions {
  retentionMs?: number;
  now?: () => number;
}

/**
 * Verifies the chain of `tenant` up to the head read when the walk starts. With a retention, records before
 * the first one held may have expired: that prefix is not a finding unless a signed checkpoint proves part
 * of it too young to have expired (records after a checkpoint were archived after its time).
 */
export async function verifyTenant(
  archive: AuditArchive,
  tenant: string,
  publicKey: KeyObject,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const head = await archive.head(tenant);
  if (head) await awaitClaim(archive, tenant, head);
  const cps = await archive.checkpoints(tenant);
  const findings: Finding[] = [];
  const proven = new Map<number, Checkpoint>();
  for (const cp of cps) {
    if (verifyCheckpoint(cp, publicKey)) proven.set(cp.seq, cp);
    else findings.push({ seq: cp.seq, eventId: null, problem: 'bad-checkpoint' });
  }
  const limit = head?.seq ?? Number.MAX_SAFE_INTEGER;
  let expectSeq = 1;
  let prevHash: string | null = GENESIS_HASH;
  let checked = 0;
  let lastHash: string | null = null;
  let from = 1;
  let firstSeq = 1;
  for (;;) {
    const page = await archive.records(tenant, from, PAGE);
    if (from === 1 && (opts.retentionMs ?? 0) > 0 && (page[0]?.link.seq ?? 1) > 1) {
      firstSeq = page[0]!.link.seq;
      const expiredBefore = (opts.now ?? Date.now)() - opts.retentionMs!;
      const tooYoung = [...proven.values()].filter(
        (cp) => cp.seq < firstSeq && Date.parse(cp.time) > expiredBefore,
      );
      expectSeq = tooYoung.length > 0 ? Math.min(...tooYoung.map((cp) => cp.seq)) + 1 : firstSeq;
      prevHash = proven.get(expectSeq - 1)?.hash ?? null;
    }
    const groups = groupBySeq(page.filter((r) => r.link.seq <= limit));
    // A full page may cut the records of its last seq in two: read that seq again with the next page.
    if (page.length === PAGE && groups.length > 1) groups.pop();
    for (const [seq, recs] of groups) {
      for (let s = expectSeq; s < seq; s++) findings.push({ seq: s, eventId: null, problem: 'removed' });
      if (seq > expectSeq) prevHash = null;
      const genuine = recs.find(
        (r) => linkHolds(r.event, r.link) && (prevHash === null || r.link.prevHash === prevHash),
      );
      const chosen = genuine ?? recs[0]!;
      if (!genuine) findings.push({ seq, eventId: chosen.event.id, problem: 'changed' });
      for (const r of recs)
        if (r !== chosen) findings.push({ seq, eventId: r.event.id, problem: 'inserted' });
      const cp = proven.get(seq);
      if (genuine && cp && cp.hash !== chosen.link.hash)
        findings.push({ seq, eventId: chosen.event.id, problem: 'changed' });
      checked += recs.length;
      prevHash = lastHash = chosen.link.hash;
      expectSeq = seq + 1;
    }
    const next = groups.at(-1)?.[0];
    if (next === undefined || page.length < PAGE) break;
    from = next + 1;
  }
  if (head) {
    for (let s = expectSeq; s <= head.seq; s++) findings.push({ seq: s, eventId: null, problem: 'removed' });
    if (expectSeq === head.seq + 1 && lastHash !== head.hash && !findings.some((f) => f.seq === head.seq))
      findings.push({ seq: head.seq, eventId: head.claimed.at(-1)!.eventId, problem: 'changed' });
  }
  findings.sort((a, b) => a.seq - b.seq);
  return {
    tenant,
    ok: findings.length === 0,
    checked,
    headSeq: head?.seq ?? 0,
    checkpoints: cps.length,
    firstSeq,
    findings,
  };
}

/**
 * Waits (a bounded while) until the records of the head's last claim are written: an archiver writes a
 * batch right after claiming it, so records missing for longer are reported as removed.
 */
async function awaitClaim(archive: AuditArchive, tenant: string, head: StoredChainHead): Promise<void> {
  const deadline = Date.now() + CLAIM_WAIT_MS;
  while (!(await claimWritten(archive, tenant, head)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 25));
}

function groupBySeq(records: ArchiveRecord[]): Array<[number, ArchiveRecord[]]> {
  const groups: Array<[number, ArchiveRecord[]]> = [];
  for (const r of records) {
    const last = groups.at(-1);
    if (last && last[0] === r.link.seq) last[1].push(r);
    else groups.push([r.link.seq, [r]]);
  }
  return groups;
}
