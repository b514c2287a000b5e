/**
 * Policy sets from files, applied at start: each `<set>.cedar` of the policy directory (platform.cedar,
 * <tenant>.cedar) that compiles is stored, as the directory's mode says (`authoritative`: whenever its text
 * differs from the stored set; `seed`: only when the set is not stored yet). A file that does not compile
 * is logged with its errors and the stored set stays in force; a file that is not a policy set is named
 * and skipped. Finally, when no platform set is stored, the bundled default is: a fresh install works.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@meshgate/config';
import { PolicySetName } from '@meshgate/contracts';
import { MaxPolicySetBytes } from '@meshgate/policy';
import { BundledPolicyDir } from './config';
import { InvalidPolicySet, type PolicyStore } from './policy-store';

/** What applying the directory did, for the start-up log. */
export interface AppliedPolicyFiles {
  stored: string[];
  unchanged: string[];
  invalid: string[];
  skipped: string[];
}

/** Applies the `.cedar` files of `dir` to `store`; a missing directory is an error. */
export async function applyPolicyFiles(
  store: PolicyStore,
  files: { dir: string; mode: 'authoritative' | 'seed' },
  log: Logger,
): Promise<AppliedPolicyFiles> {
  const applied: AppliedPolicyFiles = { stored: [], unchanged: [], invalid: [], skipped: [] };
  const entries = await readdir(files.dir, { withFileTypes: true });
  for (const entry of entries
    .filter((e) => e.name.endsWith('.cedar'))
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(files.dir, entry.name);
    const name = entry.name.slice(0, -'.cedar'.length);
    const text = entry.isFile() && PolicySetName.safeParse(name).success ? await readText(path) : null;
    if (text === null) {
      log.warn(
        { path },
        'skipped a file that is not a readable policy set (<set>.cedar, UTF-8, at most 1 MB)',
      );
      applied.skipped.push(path);
      continue;
    }
    try {
      const saved = await store.save(name, text, path, { createOnly: files.mode === 'seed' });
      (saved.status === 'unchanged' ? applied.unchanged : applied.stored).push(name);
    } catch (err) {
      if (!(err instanceof InvalidPolicySet)) throw err;
      log.error({ path, errors: err.errors }, 'invalid policy file; the stored set stays in force');
      applied.invalid.push(name);
    }
  }
  if ((await store.get('platform')) === null) {
    const path = join(BundledPolicyDir, 'platform.cedar');
    const text = await readText(path);
    if (text === null) throw new Error(`the default platform policy set ${path} cannot be read`);
    await store.save('platform', text, path, { createOnly: true });
    log.warn(
      { path },
      'no platform policy set was stored: stored the default one (every agent may use everything)',
    );
    applied.stored.push('platform');
  }
  return applied;
}

/** The UTF-8 text of a file, or null when it is too large or not UTF-8. */
async function readText(path: string): Promise<string | null> {
  const bytes = await readFile(path);
  if (bytes.length > MaxPolicySetBytes) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
