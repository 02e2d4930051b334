// Execution: what each command does, written once for all four models.
//
// The models differ in *where* and *when* a command runs (which thread, and
// whether anything else may run meanwhile), never in *what* it does. So the
// semantics live here, and a model hands in a Runtime that supplies the few
// things that really differ between models:
//
//   - how to wait (`sleep`): a thread that may block calls Atomics.wait; an
//     event loop must never block, so it returns a timer's promise instead;
//   - what `STATS` reports beyond the common counters.
//
// `handleCommand` runs a parsed command and turns every refusal (a full store,
// a value that is not an integer) into a Refusal reply, so the connection
// stays open. A refusal is data (refusals.ts), and each codec words it: the
// line protocol as `ERR <message>`, HTTP with the status of its kind.

import { createHash } from 'node:crypto';
import { Command, DEBUG_FAULTS, DebugFault, ProtocolError } from './commands.js';
import { Refusal, refusal } from './refusals.js';
import { IncrementOverflowError, NotAnIntegerError, SharedStore, StoreFullError } from '../store/store.js';
import type { SharedCounters } from '../stats.js';

export interface Runtime {
  store: SharedStore;
  counters: SharedCounters;
  /** Waits `ms` milliseconds: by blocking this thread, or by returning a promise. */
  sleep(ms: number): void | Promise<void>;
  /** The JSON object `STATS` answers with. */
  stats(): Record<string, unknown>;
  /** Present only with `--test-hooks`: how `DEBUG CRASH` fails the thread running it. */
  testHooks?: { crash(): never };
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
      return 'OK';
    case 'GET': {
      const value = store.get(command.key);
      return value === undefined ? 'NIL' : `VALUE ${value}`;
    }
    case 'DEL':
      return store.delete(command.key) ? 'OK' : 'NIL';
    case 'INCR':
      return `VALUE ${store.increment(command.key)}`;
    case 'WORK':
      return `VALUE ${hashChain(command.rounds)}`;
    case 'SLEEP': {
      const waited = runtime.sleep(command.ms);
      return waited ? waited.then(() => 'OK') : 'OK';
    }
    case 'STATS':
      return JSON.stringify(runtime.stats());
    case 'QUIT':
      return BYE;
    case 'DEBUG':
      return injectFault(command.fault, runtime);
  }
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
