// A mutex that lives in shared memory, so that the main thread and every
// worker thread can take the same lock.
//
// Threads in Node share nothing by default; they talk by copying messages.
// The lab's store is shared through a SharedArrayBuffer instead, so that four
// server models can use one store and a comparison measures the model, not the
// data structure. Shared memory needs mutual exclusion, and JavaScript gives us
// only the primitives: `Atomics.compareExchange` to claim a word, and
// `Atomics.wait`/`Atomics.notify` to sleep on it and wake a sleeper (a futex).
//
// This is the classic futex mutex (Drepper, "Futexes Are Tricky") with one
// addition: the lock word names its holder. 0 means unlocked; otherwise the
// word is the holder's owner id shifted left by one, and its lowest bit says
// that someone may be asleep waiting. Keeping "nobody waiting" apart means an
// uncontended unlock never pays for a notify, which matters because every
// store operation takes this lock.
//
// Why name the holder? A thread can die while it holds the lock: Node's
// `worker.terminate()`, or a worker running out of memory, stops a thread
// between two statements and runs no `finally`. A plain futex would then stay
// locked for ever and every other thread would sleep on it for ever: the
// whole server hangs. Here a waiter that has slept a while asks the kernel
// whether the holder still exists (on Linux, /proc/self/task/<tid>). If it does
// not, the waiter takes the lock over and first lets the lock's owner repair
// what the dead thread may have left half done (see store.ts, `repair`).
// Servers should not rely on this: they never kill a thread that may be inside
// the store (models/per-connection.ts). It is the last line, not the plan.
//
// Why a lock and not a message to a "store thread"? A message round trip
// between threads costs tens of microseconds; a store operation under an
// uncontended lock costs well under one. The critical sections here are a hash
// probe and a memcpy, so holding a lock is cheaper than asking someone else.
//
// Simplification, named: where /proc is missing (not Linux), a holder's death
// cannot be seen, and a lock held by a dead thread stays held.

import { existsSync, readlinkSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const UNLOCKED = 0;
/** The lowest bit of a held lock: some thread may be asleep waiting for it. */
const WAITERS = 1;
/** How long a waiter sleeps before it checks that the holder is still alive. */
const HOLDER_CHECK_MS = 100;

/** What a thread that took over a dead holder's lock must do before it goes on. */
export type AbandonedLockHandler = (deadOwner: number) => void;

export class SharedMutex {
  constructor(
    private readonly cells: Int32Array,
    private readonly index: number,
    private readonly onAbandoned: AbandonedLockHandler = () => {},
  ) {}

  lock(): void {
    const mine = ownerWord();
    if (Atomics.compareExchange(this.cells, this.index, UNLOCKED, mine) !== UNLOCKED) this.lockContended(mine);
  }

  unlock(): void {
    // Nobody announced they were waiting: no wake-up needed.
    if ((Atomics.exchange(this.cells, this.index, UNLOCKED) & WAITERS) !== 0) Atomics.notify(this.cells, this.index, 1);
  }

  withLock<T>(criticalSection: () => T): T {
    this.lock();
    try {
      return criticalSection();
    } finally {
      this.unlock();
    }
  }

  /** The owner id of the thread holding the lock, or 0 when it is free. */
  holder(): number {
    return Atomics.load(this.cells, this.index) >>> 1;
  }

  /**
   * Someone holds it. Announce that we wait, sleep until an unlock wakes us,
   * and retry. A waiter that wins the lock claims it with the WAITERS bit set,
   * because it cannot know whether others still sleep.
   */
  private lockContended(mine: number): void {
    for (;;) {
      const state = Atomics.load(this.cells, this.index);
      if (state === UNLOCKED) {
        if (Atomics.compareExchange(this.cells, this.index, UNLOCKED, mine | WAITERS) === UNLOCKED) return;
        continue;
      }
      if (state >>> 1 === mine >>> 1) throw new Error('a thread tried to take the store lock it already holds');
      if ((state & WAITERS) === 0 && Atomics.compareExchange(this.cells, this.index, state, state | WAITERS) !== state) continue;
      const woken = Atomics.wait(this.cells, this.index, state | WAITERS, HOLDER_CHECK_MS);
      if (woken === 'timed-out' && this.takeOverIfHolderDied(state | WAITERS, mine)) return;
    }
  }

  private takeOverIfHolderDied(state: number, mine: number): boolean {
    const holder = state >>> 1;
    if (threadIsAlive(holder)) return false;
    if (Atomics.compareExchange(this.cells, this.index, state, mine | WAITERS) !== state) return false;
    this.onAbandoned(holder);
    return true;
  }
}

/** Whether owner ids are kernel thread ids, which any thread can look up in /proc. */
const KERNEL_THREAD_IDS = kernelThreadId() !== undefined;
let ownOwnerWord = 0;

/** This thread's owner id, shifted into place in the lock word. */
function ownerWord(): number {
  if (ownOwnerWord === 0) ownOwnerWord = ownerId() << 1;
  return ownOwnerWord;
}

/**
 * A thread's owner id: its kernel thread id where /proc can tell us (so that
 * any thread can later ask whether it still exists), else Node's own thread
 * number plus one, so that the main thread's 0 is not "unlocked".
 */
export function ownerId(): number {
  return kernelThreadId() ?? threadId + 1;
}

/** Whether the thread with this owner id still runs; always true where that cannot be told. */
export function threadIsAlive(owner: number): boolean {
  return !KERNEL_THREAD_IDS || existsSync(`/proc/self/task/${owner}`);
}

function kernelThreadId(): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
