// What the durability tests share: temporary data directories that clean up
// after themselves, a plain Map standing in for the store (so a test can
// compare whole contents), and a way to lay out segment files by hand.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { segmentName } from '../files.js';
import { encodeLogRecord, LogRecord } from '../record.js';
import { recover } from '../recovery.js';

/** Registers cleanup with the calling test file; returns a maker of fresh directories. */
export function temporaryDirectories(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-durability-'));
    made.push(dir);
    return dir;
  };
}

/** A store stand-in whose whole contents a test can compare. */
export class MapStore {
  readonly entries = new Map<string, string>();
  set(key: string, value: string): void {
    this.entries.set(key, value);
  }
  delete(key: string): boolean {
    return this.entries.delete(key);
  }
  usage(): { liveBytes: number } {
    let liveBytes = 0;
    for (const [key, value] of this.entries) liveBytes += 16 + key.length + value.length;
    return { liveBytes };
  }
  toObject(): Record<string, string> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

/** What recovery rebuilds from `dir`, as a plain object. */
export function recoveredState(dir: string): Record<string, string> {
  const store = new MapStore();
  recover(dir, store);
  return store.toObject();
}

/** The state a list of records leaves, as recovery should rebuild it. */
export function stateAfter(records: LogRecord[]): Record<string, string> {
  const store = new MapStore();
  for (const record of records) {
    if (record.type === 'SET') store.set(record.key, record.value);
    else store.delete(record.key);
  }
  return store.toObject();
}

export function encodeAll(records: LogRecord[]): Buffer {
  return Buffer.concat(records.map(encodeLogRecord));
}

export function writeSegment(dir: string, id: number, bytes: Buffer): string {
  const file = path.join(dir, segmentName(id));
  fs.writeFileSync(file, bytes);
  return file;
}

export function filesIn(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** A copy of the directory as it is now: what a crash at this instant leaves, if everything written so far reached the disk. */
export function copyDirectory(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

export const set = (key: string, value: string): LogRecord => ({ type: 'SET', key, value });
export const del = (key: string): LogRecord => ({ type: 'DEL', key });
