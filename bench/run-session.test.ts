import { existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunDir, makeRunId, pointLatestAt } from './run-session.js';

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-session-'));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('run ids and directories', () => {
  it('names a run by its UTC start time, safe as a directory name', () => {
    expect(makeRunId(new Date('2025-03-04T05:06:07.890Z'))).toBe('2025-03-04T05-06-07Z');
  });

  it('never reuses the directory of an earlier run that started in the same second', () => {
    const out = tempDir();
    const first = createRunDir(out, 'r');
    const second = createRunDir(out, 'r');
    expect(first.runId).toBe('r');
    expect(second.runId).toBe('r-1');
  });
});

describe('pointLatestAt', () => {
  it('makes latest a relative link to the newest run, replacing the previous link', () => {
    const out = tempDir();
    mkdirSync(path.join(out, 'a'));
    mkdirSync(path.join(out, 'b'));
    pointLatestAt(out, 'a');
    pointLatestAt(out, 'b');
    expect(readlinkSync(path.join(out, 'latest'))).toBe('b');
  });

  it('refuses to replace a latest that is a real file rather than a link', () => {
    const out = tempDir();
    writeFileSync(path.join(out, 'latest'), 'keep me');
    expect(() => pointLatestAt(out, 'a')).toThrow(/not a symbolic link/);
  });

  it("points the soak's link, latest-soak, by the same rule, leaving latest alone", () => {
    const out = tempDir();
    mkdirSync(path.join(out, 'a'));
    pointLatestAt(out, 'a', 'latest-soak');
    expect(readlinkSync(path.join(out, 'latest-soak'))).toBe('a');
    expect(existsSync(path.join(out, 'latest'))).toBe(false);
  });
});
