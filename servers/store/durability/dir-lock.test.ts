// Specification of the data directory lock: one server per directory; the
// second is refused with the first one's pid; a lock left by a process that
// is no longer alive is taken over; and a lock file that is not ours is never
// removed on release.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirectoryLockedError, lockDataDirectory } from './dir-lock.js';
import { LOCK_FILE } from './files.js';
import { temporaryDirectories } from './test-support/data-dirs.js';
import { compiledModule } from './test-support/threads.js';

const tempDir = temporaryDirectories();

/** The pid of a process that has exited: alive a moment ago, certainly not now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the data directory lock', () => {
  it('refuses a second claim on the same directory, naming the pid that holds it', () => {
    const dir = tempDir();
    const first = lockDataDirectory(dir);
    expect(() => lockDataDirectory(dir)).toThrow(DataDirectoryLockedError);
    expect(() => lockDataDirectory(dir)).toThrow(`data directory ${dir} is in use by process ${process.pid}`);
    first.release();
  });

  it('writes the holder pid into LOCK and removes it on release, after which the directory can be claimed again', () => {
    const dir = tempDir();
    const lock = lockDataDirectory(dir);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'latin1')).toBe(`${process.pid}\n`);
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    lockDataDirectory(dir).release();
  });

  it('leaves no temporary file behind, whether it wins or loses', () => {
    const dir = tempDir();
    const lock = lockDataDirectory(dir);
    expect(() => lockDataDirectory(dir)).toThrow(DataDirectoryLockedError);
    expect(fs.readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it('takes over a stale lock whose process is no longer alive, and says whose it was', () => {
    const dir = tempDir();
    const stale = deadPid();
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${stale}\n`);
    const lock = lockDataDirectory(dir);
    expect(lock.tookOverFrom).toBe(stale);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'latin1')).toBe(`${process.pid}\n`);
    lock.release();
  });

  it('refuses a lock held by another live process', () => {
    const dir = tempDir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      fs.writeFileSync(path.join(dir, LOCK_FILE), `${other.pid}\n`);
      expect(() => lockDataDirectory(dir)).toThrow(`in use by process ${other.pid}`);
    } finally {
      other.kill();
    }
  });

  it('makes a second server process refuse the directory this one holds, with a clear error', () => {
    const dir = tempDir();
    const lock = lockDataDirectory(dir);
    try {
      const claim = `import(${JSON.stringify(compiledModule('dir-lock.js').href)}).then((m) => m.lockDataDirectory(${JSON.stringify(dir)}))`;
      const second = spawnSync(process.execPath, ['-e', claim]);
      expect(second.status).not.toBe(0);
      expect(second.stderr.toString()).toContain(`DataDirectoryLockedError: data directory ${dir} is in use by process ${process.pid}`);
    } finally {
      lock.release();
    }
  });

  it('refuses, rather than takes over, a LOCK that holds no pid', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, LOCK_FILE), 'not a pid');
    expect(() => lockDataDirectory(dir)).toThrow(/does not hold a process id/);
  });

  it('does not remove on release a lock that another process has since taken over', () => {
    const dir = tempDir();
    const lock = lockDataDirectory(dir);
    fs.writeFileSync(path.join(dir, LOCK_FILE), '1\n');
    lock.release();
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'latin1')).toBe('1\n');
  });
});
