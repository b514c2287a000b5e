/**
 * One process per audit spool directory (libs/audit): a replica claims its directory with a pid file, so
 * that a restarted replica takes over the spool its predecessor left, while a second replica started from
 * the same directory gets a directory of its own instead of sharing one. A pid file whose process is gone
 * (or whose pid is ours, as after a container restart where every process is pid 1) is stale and replaced.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const LOCK_FILE = 'owner.pid';

/** Directories held by this process (several replicas may share one process in tests). */
const heldHere = new Set<string>();

/** A claimed spool directory; `release()` removes the pid file when it is still ours. */
export interface SpoolClaim {
  dir: string;
  release(): Promise<void>;
}

/** True when a process with this pid runs (EPERM: it runs under another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryClaim(dir: string): Promise<boolean> {
  if (heldHere.has(dir)) return false;
  await mkdir(dir, { recursive: true });
  const lock = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      heldHere.add(dir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (holder !== process.pid && pidAlive(holder)) return false;
    await rm(lock, { force: true });
  }
  return false;
}

/**
 * Claims `preferred` (resolved against the working directory), or `<preferred>-<instanceId>` when another
 * live process holds it. Throws when neither can be claimed or created.
 */
export async function claimSpoolDir(preferred: string, instanceId: string): Promise<SpoolClaim> {
  const first = resolve(preferred);
  const dir = (await tryClaim(first)) ? first : `${first}-${instanceId}`;
  if (dir !== first && !(await tryClaim(dir)))
    throw new Error(`audit spool directories ${first} and ${dir} are both held by other processes`);
  return {
    dir,
    async release() {
      if (!heldHere.delete(dir)) return;
      const lock = join(dir, LOCK_FILE);
      const holder = (await readFile(lock, 'utf8').catch(() => '')).trim();
      if (holder === String(process.pid)) await rm(lock, { force: true });
    },
  };
}
