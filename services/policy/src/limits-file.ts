/**
 * The limits from the policy directory, applied at start: `limits.json` (a LimitsConfig) is stored as the
 * directory's mode says, like the `.cedar` files beside it (`authoritative`, MESHGATE_POLICY_DIR: whenever
 * it differs from the stored limits; `seed`, the bundled directory: only when none are stored; the bundled
 * directory has no limits file, so a fresh install limits nothing). A file that is not UTF-8 JSON, too
 * large, or not a valid LimitsConfig is logged with its issues and the stored limits stay in force. A
 * directory without the file leaves the stored limits as they are.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@meshgate/config';
import { InvalidLimits, LimitsTooLarge, MaxLimitsBytes, type LimitsStore } from './limits-store';

/** The name of the limits file in the policy directory. */
export const LimitsFileName = 'limits.json';

/** What applying the file did, for the start-up log. */
export type AppliedLimitsFile = 'absent' | 'stored' | 'unchanged' | 'invalid';

/** Applies `<dir>/limits.json` to `store`; a missing file is `absent`, a bad one `invalid` (logged). */
export async function applyLimitsFile(
  store: LimitsStore,
  files: { dir: string; mode: 'authoritative' | 'seed' },
  log: Logger,
): Promise<AppliedLimitsFile> {
  const path = join(files.dir, LimitsFileName);
  const refuse = (reason: string, extra: Record<string, unknown> = {}): AppliedLimitsFile => {
    log.error({ path, reason, ...extra }, 'invalid limits file; the stored limits stay in force');
    return 'invalid';
  };
  const info = await stat(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  });
  if (info === null) return 'absent';
  if (!info.isFile()) return refuse('not a regular file');
  if (info.size > MaxLimitsBytes) return refuse(`${info.size} bytes; at most ${MaxLimitsBytes} are accepted`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path)));
  } catch (err) {
    return refuse(err instanceof SyntaxError ? `not JSON: ${err.message}` : 'not UTF-8 text');
  }
  try {
    const saved = await store.save(json, { createOnly: files.mode === 'seed' });
    return saved.status === 'unchanged' ? 'unchanged' : 'stored';
  } catch (err) {
    if (err instanceof InvalidLimits) return refuse('not a valid LimitsConfig', { issues: err.issues });
    if (err instanceof LimitsTooLarge) return refuse(err.message);
    throw err;
  }
}
