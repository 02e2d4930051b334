// The write-ahead log's state in shared memory: one SharedArrayBuffer that
// every thread attaches to, so that a worker thread can append, wait for an
// fsync or lead one without asking the main thread. This file only names the
// cells; wal.ts (appending, segments) and group-commit.ts (waiting for
// durability) are the two halves that read and write them.
//
// Int32 cells come first because Atomics.wait and Atomics.waitAsync work only
// on them (the log's mutex word and the leader's epoch live there); counters
// that could pass 2^31 are BigInt64 cells after them.

export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

export const I_LOCK = 0;
export const I_FD = 1;
export const I_SEGMENT = 2;
export const I_LEADER = 3;
/** Bumped when a leader finishes: what waiters sleep on. */
export const I_EPOCH = 4;
export const I_POLICY = 5;
export const I_STATE = 6;
export const I_COMPACTING = 7;
const INT_CELLS = 8;

export const B_WRITTEN = 0;
export const B_DURABLE = 1;
export const B_BYTES = 2;
export const B_SEGMENT_BYTES = 3;
export const B_LOG_BYTES = 4;
export const B_FSYNCS = 5;
export const B_GROUPED = 6;
export const B_MAX_GROUP = 7;
export const B_ACKS = 8;
export const B_ACKS_NOT_DURABLE = 9;
export const B_COMPACTIONS = 10;
const BIG_CELLS = 11;

/** Values of the I_STATE cell. */
export const OPEN = 0;
export const CLOSED = 1;
export const FAILED = 2;

/** The two typed views of one log's shared buffer. */
export interface WalCells {
  ints: Int32Array;
  big: BigInt64Array;
}

export function allocateWalBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(INT_CELLS * 4 + BIG_CELLS * 8);
}

export function viewWalCells(buffer: SharedArrayBuffer): WalCells {
  return { ints: new Int32Array(buffer, 0, INT_CELLS), big: new BigInt64Array(buffer, INT_CELLS * 4, BIG_CELLS) };
}

export class LogUnavailableError extends Error {}

/** Throws if an earlier write or fsync failed: from then on the log takes nothing. */
export function refuseIfFailed(cells: WalCells): void {
  if (Atomics.load(cells.ints, I_STATE) === FAILED)
    throw new LogUnavailableError('an earlier fsync or write of the log failed, so it takes no more writes');
}

/** After a failed fsync the log stops taking writes for good (see wal.ts's simplifications). */
export function stopAfterFsyncFailure(cells: WalCells, error: unknown): LogUnavailableError {
  Atomics.store(cells.ints, I_STATE, FAILED);
  return new LogUnavailableError(`fsync of the log failed, so it takes no more writes: ${(error as Error).message}`, { cause: error });
}
