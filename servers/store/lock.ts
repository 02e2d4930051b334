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
// This is the classic three-state futex mutex (Drepper, "Futexes Are Tricky"):
// 0 = unlocked, 1 = locked with nobody waiting, 2 = locked and someone may be
// asleep. Keeping "nobody waiting" apart means an uncontended unlock never pays
// for a notify, which matters because every store operation takes this lock.
//
// Why a lock and not a message to a "store thread"? A message round trip
// between threads costs tens of microseconds; a store operation under an
// uncontended lock costs well under one. The critical sections here are a hash
// probe and a memcpy, so holding a lock is cheaper than asking someone else.

const UNLOCKED = 0;
const LOCKED = 1;
const CONTENDED = 2;

export class SharedMutex {
  constructor(
    private readonly cells: Int32Array,
    private readonly index: number,
  ) {}

  lock(): void {
    let state = Atomics.compareExchange(this.cells, this.index, UNLOCKED, LOCKED);
    if (state === UNLOCKED) return;
    // Someone holds it. Announce that we are waiting, then sleep until the
    // holder's unlock wakes us; retry the claim each time we wake.
    if (state !== CONTENDED) state = Atomics.exchange(this.cells, this.index, CONTENDED);
    while (state !== UNLOCKED) {
      Atomics.wait(this.cells, this.index, CONTENDED);
      state = Atomics.exchange(this.cells, this.index, CONTENDED);
    }
  }

  unlock(): void {
    // From LOCKED straight to UNLOCKED means nobody waited: no wake-up needed.
    if (Atomics.sub(this.cells, this.index, 1) !== LOCKED) {
      Atomics.store(this.cells, this.index, UNLOCKED);
      Atomics.notify(this.cells, this.index, 1);
    }
  }

  withLock<T>(criticalSection: () => T): T {
    this.lock();
    try {
      return criticalSection();
    } finally {
      this.unlock();
    }
  }
}
