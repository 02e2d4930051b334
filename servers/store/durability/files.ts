// The data directory: what files it holds, what their names mean, and the
// few file-system moves that make changes to it crash-safe.
//
// Layout of `--data-dir`:
//
//   LOCK                        the pid of the server using the directory (dir-lock.ts)
//   snapshot-0000000007.snap    every live key as of the start of segment 7
//   wal-0000000007.log          segment 7: records appended after that snapshot
//   wal-0000000008.log          segment 8: appended after 7 was closed
//   snapshot-0000000009.snap.tmp  a snapshot being written; never read
//
// The state of the store is the latest snapshot, then every segment from its
// number on, in order. Without a snapshot, segments start at 1. A segment is
// closed when appends switch to the next one (wal.ts, at a compaction, and at
// every start); only the newest segment is ever appended to.
//
// A new file becomes part of the state only by a rename of a complete, synced
// temporary file, followed by an fsync of the directory, because a rename is
// atomic but is itself only durable once the directory is synced. Files are
// deleted only once something durable makes them unnecessary. That is what
// lets a crash at any instant leave either the old state or the new one.

import fs from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'LOCK';
const SEGMENT = /^wal-(\d{10})\.log$/;
const SNAPSHOT = /^snapshot-(\d{10})\.snap$/;
const TEMPORARY = /\.tmp$/;

export function segmentName(id: number): string {
  return `wal-${pad(id)}.log`;
}

export function snapshotName(id: number): string {
  return `snapshot-${pad(id)}.snap`;
}

export function temporaryName(finalName: string): string {
  return `${finalName}.tmp`;
}

function pad(id: number): string {
  if (!Number.isInteger(id) || id < 1 || id > 9_999_999_999) throw new RangeError(`file number out of range: ${id}`);
  return String(id).padStart(10, '0');
}

export interface DataFile {
  id: number;
  name: string;
  size: number;
}

export interface DirectoryListing {
  /** Ascending by id. */
  segments: DataFile[];
  /** Ascending by id. */
  snapshots: DataFile[];
  /** Unfinished snapshots (`*.tmp`): left by a crash, never read. */
  temporaries: string[];
}

export function listDataDirectory(dir: string): DirectoryListing {
  const listing: DirectoryListing = { segments: [], snapshots: [], temporaries: [] };
  for (const name of fs.readdirSync(dir)) {
    const segment = SEGMENT.exec(name);
    const snapshot = SNAPSHOT.exec(name);
    if (segment) listing.segments.push(dataFile(dir, name, segment[1]));
    else if (snapshot) listing.snapshots.push(dataFile(dir, name, snapshot[1]));
    else if (TEMPORARY.test(name)) listing.temporaries.push(name);
  }
  listing.segments.sort((a, b) => a.id - b.id);
  listing.snapshots.sort((a, b) => a.id - b.id);
  return listing;
}

function dataFile(dir: string, name: string, digits: string): DataFile {
  return { id: Number(digits), name, size: fs.statSync(path.join(dir, name)).size };
}

export class MissingSegmentError extends Error {
  constructor(
    readonly dir: string,
    readonly expected: number,
    found: number,
  ) {
    super(`${dir}: ${segmentName(expected)} is missing (the next segment found is ${segmentName(found)}); refusing to start with a gap in the log`);
  }
}

/** Which files make up the state, and which are left over from an interrupted compaction. */
export interface StatePlan {
  snapshot: DataFile | null;
  /** Contiguous, ascending, starting at the snapshot's id (or 1). */
  segments: DataFile[];
  /** Older snapshots and segments that the newest snapshot makes unnecessary. */
  obsolete: DataFile[];
}

/**
 * The files that hold the state, from a listing: the newest snapshot and the
 * segments from its number on. With `before`, the state as it was when
 * segment `before` was opened (what a compaction folds into snapshot `before`).
 */
export function planState(dir: string, listing: DirectoryListing, before = Infinity): StatePlan {
  const snapshots = listing.snapshots.filter((file) => file.id < before);
  const snapshot = snapshots.at(-1) ?? null;
  const base = snapshot?.id ?? 1;
  const segments = listing.segments.filter((file) => file.id >= base && file.id < before);
  segments.forEach((file, i) => {
    if (file.id !== base + i) throw new MissingSegmentError(dir, base + i, file.id);
  });
  const obsolete = [...snapshots.slice(0, -1), ...listing.segments.filter((file) => file.id < base)];
  return { snapshot, segments, obsolete };
}

/** The number of the next segment to create: one past every file there. */
export function nextSegmentId(listing: DirectoryListing): number {
  const highest = Math.max(0, ...listing.segments.map((file) => file.id), ...listing.snapshots.map((file) => file.id - 1));
  return highest + 1;
}

/** Makes the directory's entries (creations, renames, deletions) durable. */
export function syncDirectory(dir: string): void {
  withOpenFile(dir, 'r', (fd) => fs.fsyncSync(fd));
}

/** Cuts a file back to `size` bytes and makes that durable. */
export function truncateFile(file: string, size: number): void {
  withOpenFile(file, 'r+', (fd) => {
    fs.ftruncateSync(fd, size);
    fs.fsyncSync(fd);
  });
}

/** Writes all of `bytes` at the fd's position, however many calls that takes. */
export function writeFully(fd: number, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) written += fs.writeSync(fd, bytes, written, bytes.length - written);
}

export function withOpenFile<T>(file: string, flags: string, use: (fd: number) => T): T {
  const fd = fs.openSync(file, flags);
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}
