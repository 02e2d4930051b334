// One server per data directory.
//
// Two servers appending to the same log would interleave records and each
// compact away the other's segments. So a server claims the directory first:
// it writes its pid into `LOCK`, and a second server that finds a `LOCK` whose
// process is alive refuses to start, naming that pid.
//
// Node has no flock(), which is what a C server would use: the kernel drops
// such a lock when its process dies, so it is never stale. Instead the lock
// here is a file, and a crashed server leaves it behind; a starting server
// treats a lock whose pid is not alive as stale and takes it over. The file
// appears atomically with its content: the pid is written to a private
// temporary file, which is then hard-linked to `LOCK` (link fails if `LOCK`
// exists, like O_EXCL, so there is never an empty lock to misread).
//
// Simplifications, named:
//   - a pid says nothing about which host or container it belongs to: on a
//     directory shared over a network, or between pid namespaces, "alive" is
//     judged in the wrong place;
//   - a stale lock whose pid has since been reused by an unrelated process
//     counts as alive: the server refuses, and someone must delete `LOCK` (the
//     safe side of the mistake);
//   - two servers that find the same stale lock at the same instant can both
//     take it over: removing the stale file and linking a new one are two steps.

import fs from 'node:fs';
import path from 'node:path';
import { LOCK_FILE } from './files.js';

export class DataDirectoryLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`data directory ${dir} is in use by process ${pid} (${path.join(dir, LOCK_FILE)}); stop that server first, or use another --data-dir`);
  }
}

export interface DirectoryLock {
  readonly file: string;
  /** Whether a stale lock (of a process no longer alive) was taken over, and whose. */
  readonly tookOverFrom: number | null;
  release(): void;
}

/** Claims `dir` for this process, or throws DataDirectoryLockedError. */
export function lockDataDirectory(dir: string): DirectoryLock {
  const file = path.join(dir, LOCK_FILE);
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreateLock(file)) return heldLock(file, tookOverFrom);
    const holder = lockHolder(file);
    if (holder === undefined) continue; // it vanished between our try and our look: try again
    if (isAlive(holder)) throw new DataDirectoryLockedError(dir, holder);
    removeIfStill(file, holder);
    tookOverFrom = holder;
  }
  throw new Error(`could not claim ${file}: it keeps changing under us`);
}

function heldLock(file: string, tookOverFrom: number | null): DirectoryLock {
  let held = true;
  return {
    file,
    tookOverFrom,
    release() {
      if (!held) return;
      held = false;
      if (lockHolder(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

/** Creates `LOCK` holding our pid, all at once; false if one exists. */
function tryCreateLock(file: string): boolean {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${process.pid}\n`);
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** The pid in the lock file; undefined if there is no file. A file that is not a pid is an error, not stale. */
function lockHolder(file: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(`${file} does not hold a process id (${JSON.stringify(text.slice(0, 40))}); delete it if no server uses this directory`);
  }
  return pid;
}

/** Signal 0 checks for a process without touching it; EPERM means it exists but is not ours. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfStill(file: string, stalePid: number): void {
  if (lockHolder(file) === stalePid) fs.rmSync(file, { force: true });
}
