// Execution: what each command does, written once for all four models.
//
// The models differ in *where* and *when* a command runs (which thread, and
// whether anything else may run meanwhile), never in *what* it does. So the
// semantics live here, and a model hands in a Runtime that supplies the few
// things that really differ between models:
//
//   - how to wait (`sleep`): a thread that may block calls Atomics.wait; an
//     event loop must never block, so it returns a timer's promise instead;
//   - what `STATS` reports beyond the common counters;
//   - with a data directory, how to wait for a write to be durable before
//     acknowledging it (`log`): a thread that may block waits in `commit`;
//     an event loop gets a promise from `commitAsync` and replies when it
//     settles, as it does for SLEEP. The record itself was appended inside
//     the store's lock (store.ts); the waiting happens here, outside it, so
//     that other writers can join the same fsync (group commit, wal.ts).
//
// `handleCommand` runs a parsed command and turns every refusal (a full store,
// a value that is not an integer) into a Refusal reply, so the connection
// stays open. A refusal is data (refusals.ts), and each codec words it: the
// line protocol as `ERR <message>`, HTTP with the status of its kind.

import { createHash } from 'node:crypto';
import { Command, DEBUG_FAULTS, DebugFault, ProtocolError } from './commands.js';
import { Refusal, refusal } from './refusals.js';
import { IncrementOverflowError, NotAnIntegerError, SharedStore, StoreFullError } from '../store/store.js';
import { CompactionBusyError } from '../store/durability/compaction.js';
import { RecordTooLargeError } from '../store/durability/record.js';
import { LogUnavailableError, type WriteAheadLog } from '../store/durability/wal.js';
import type { SharedCounters } from '../stats.js';

/** A thread's view of the write-ahead log, when the server has a data directory (servers/persistence.ts). */
export interface RuntimeLog {
  wal: WriteAheadLog;
  /** 'block': wait in `commit` (a thread that may block); 'async': reply when `commitAsync` settles (an event loop). */
  wait: 'block' | 'async';
  /** `COMPACT`: folds the log into a snapshot now; resolves when it is done. */
  compact(): Promise<unknown>;
  /** The `durability` section of STATS. */
  stats(): Record<string, unknown>;
}

export interface Runtime {
  store: SharedStore;
  counters: SharedCounters;
  /** Waits `ms` milliseconds: by blocking this thread, or by returning a promise. */
  sleep(ms: number): void | Promise<void>;
  /** The JSON object `STATS` answers with. */
  stats(): Record<string, unknown>;
  /** Present only with `--test-hooks`: how `DEBUG CRASH` fails the thread running it. */
  testHooks?: { crash(): never };
  /** Present only with `--data-dir`: the log every write goes to. */
  log?: RuntimeLog;
}

/** A reply after which the server closes the connection. */
export interface ClosingReply {
  line: string;
  close: true;
}

/** What a command answers: its text, a reply that ends the connection, or a refusal. */
export type Reply = string | ClosingReply | Refusal;

export const BYE: ClosingReply = { line: 'BYE', close: true };

/** Executes a parsed command; refusals (store full, not an integer) become Refusal replies. */
export function handleCommand(command: Command, runtime: Runtime): Reply | Promise<Reply> {
  try {
    return executeCommand(command, runtime);
  } catch (error) {
    return errorReply(error, runtime.counters);
  }
}

export function executeCommand(command: Command, runtime: Runtime): Reply | Promise<Reply> {
  const { store } = runtime;
  switch (command.name) {
    case 'PING':
      return 'PONG';
    case 'ECHO':
      return command.text;
    case 'SET':
      store.set(command.key, command.value);
      return acknowledged('OK', runtime);
    case 'GET': {
      const value = store.get(command.key);
      return value === undefined ? 'NIL' : `VALUE ${value}`;
    }
    case 'DEL':
      // Deleting a missing key changes nothing and logs nothing: there is nothing to wait for.
      return store.delete(command.key) ? acknowledged('OK', runtime) : 'NIL';
    case 'INCR': {
      const value = store.increment(command.key);
      return acknowledged(`VALUE ${value}`, runtime);
    }
    case 'WORK':
      return `VALUE ${hashChain(command.rounds)}`;
    case 'SLEEP': {
      const waited = runtime.sleep(command.ms);
      return waited ? waited.then(() => 'OK') : 'OK';
    }
    case 'STATS':
      // The `durability` section is absent on a server without a data directory.
      return JSON.stringify(runtime.log ? { ...runtime.stats(), durability: runtime.log.stats() } : runtime.stats());
    case 'COMPACT':
      if (!runtime.log) return refusal('noDataDir');
      return runtime.log.compact().then(
        () => 'OK',
        (error: unknown) => errorReply(error, runtime.counters),
      );
    case 'QUIT':
      return BYE;
    case 'DEBUG':
      return injectFault(command.fault, runtime);
  }
}

/**
 * The reply to a write this thread has just made, given only when the
 * `--fsync` policy allows: under `always`, once an fsync covering its record
 * has returned. Without a data directory, at once.
 */
function acknowledged(reply: string, runtime: Runtime): Reply | Promise<Reply> {
  const { log } = runtime;
  if (!log) return reply;
  const seq = runtime.store.lastWriteSeq;
  const ack = (): Reply => {
    if (runtime.testHooks) noteAck(log.wal, seq, runtime.counters);
    return reply;
  };
  if (log.wait === 'block') {
    log.wal.commit(seq);
    return ack();
  }
  const waiting = log.wal.commitAsync(seq);
  return waiting ? waiting.then(ack, (error: unknown) => errorReply(error, runtime.counters)) : ack();
}

/**
 * The promise check, a test hook: at the moment a write's reply is made, was
 * its record already covered by a completed fsync? Counted here, where the
 * reply is decided, rather than inside the log, so that a server that
 * replied before waiting would be caught. Under `always` it must never miss.
 */
function noteAck(wal: WriteAheadLog, seq: number, counters: SharedCounters): void {
  counters.add('acks');
  if (!wal.isDurable(seq)) counters.add('acksNotDurable');
}

function injectFault(fault: string, runtime: Runtime): never {
  if (!runtime.testHooks) throw new ProtocolError(`unknown command 'DEBUG'`);
  if (!DEBUG_FAULTS.includes(fault as DebugFault)) throw new ProtocolError(`DEBUG wants one of ${DEBUG_FAULTS.join(', ')}`);
  if (fault === 'CRASH') runtime.testHooks.crash();
  throw new Error('DEBUG THROW: a deliberate failure inside a command');
}

/**
 * The test hooks for a thread. A worker thread really dies on `DEBUG CRASH`, so
 * tests can watch the model replace it. A main thread only pretends (it
 * throws), because on the single-threaded models a dead main thread is a dead
 * server, and that is not a lesson worth a test.
 */
export function testHooksFor(enabled: boolean, thread: 'main' | 'worker'): Runtime['testHooks'] {
  if (!enabled) return undefined;
  return {
    crash: () => {
      if (thread === 'worker') process.exit(1);
      throw new Error('DEBUG CRASH on the main thread: answered as a failed request');
    },
  };
}

/** Turns a failure into the refusal it stands for, and counts it. Unexpected failures say less. */
export function errorReply(error: unknown, counters: SharedCounters): Refusal {
  counters.add('errors');
  const known = refusalFor(error);
  if (known) return known;
  console.error('internal error while executing a request:', error);
  return refusal('internal');
}

function refusalFor(error: unknown): Refusal | undefined {
  if (error instanceof ProtocolError) return refusal('badRequest', error.message);
  if (error instanceof StoreFullError) return refusal('storeFull');
  if (error instanceof NotAnIntegerError) return refusal('notAnInteger');
  if (error instanceof IncrementOverflowError) return refusal('incrementOverflow');
  if (error instanceof LogUnavailableError) return refusal('logUnavailable', error.message);
  if (error instanceof RecordTooLargeError) return refusal('recordTooLarge', error.message);
  if (error instanceof CompactionBusyError) return refusal('compactionBusy');
  return undefined;
}

const SEED = Buffer.from('lab', 'ascii');

/**
 * The CPU-bound work behind `WORK n`: SHA-256 applied n + 1 times, starting
 * from the bytes "lab". Each round depends on the last, so it cannot be
 * skipped or parallelised; the cost grows linearly with n.
 */
export function hashChain(rounds: number): string {
  let digest = createHash('sha256').update(SEED).digest();
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

/** Blocks the calling thread for `ms` milliseconds: the honest "blocking I/O" stand-in. */
export function blockThread(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Waits `ms` milliseconds on a timer, leaving the event loop free meanwhile. */
export function timerSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
