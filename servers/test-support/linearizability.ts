// A linearizability checker for histories of GET, SET, INCR and DEL on the
// lab's key-value store.
//
// "Every store operation is linearizable" is a promise about concurrency, and
// such promises are not checked by reading final values: a lost update can
// leave a counter right by luck, and a stale read leaves no trace at all. What
// can be checked is a history: each client records when it sent a request,
// when the reply arrived, and what the reply was. The history is linearizable
// if there is one order of all operations that (a) a single, sequential store
// would answer exactly as the server did, and (b) respects real time: an
// operation that returned before another was called comes first.
//
// Finding that order is a search (Wing and Gong, 1993), the one Knossos and
// Porcupine run. Walk the history in time order; at each point try to
// linearize any operation that has been called and not yet linearized; when
// an operation's return is reached without it having been linearized, undo
// the last choice and try another. Two things make it fast enough to run in a
// test:
//
//   - Lowe's memoization: the search state is (which operations are
//     linearized, the store's state). Reaching the same pair twice by
//     different orders cannot lead anywhere new, so each pair is tried once.
//   - Partitioning by key (P-compositionality, as Porcupine does): a map of
//     independent registers is linearizable exactly when each key's
//     sub-history is. Checking keys apart turns one exponential search over
//     every operation into a few small ones.
//
// Simplifications, named: operations touch one key each (true of the lab's
// commands); the state of a key is its value or "absent", which is all GET,
// SET, INCR and DEL can observe. An operation with no reply (return Infinity,
// reply null) may have taken effect or not; it is placed last if nowhere
// else, with any reply allowed. A reply of `ERR` that the model cannot
// produce (server busy, store full) means the command did nothing, so that
// operation is left out of the check.

export type KvCommand = 'GET' | 'SET' | 'INCR' | 'DEL';

export interface Operation {
  /** Who issued it; only used to describe a failure. */
  client: number;
  command: KvCommand;
  key: string;
  /** The value written, for SET. */
  value?: string;
  /** The reply line as the protocol gives it (`VALUE x`, `NIL`, `OK`, `ERR ...`), or null if none came. */
  reply: string | null;
  /** When the request was sent and when its reply arrived, on a clock every client shares. */
  call: number;
  /** Infinity when no reply came. */
  return: number;
}

export type Verdict =
  | { result: 'linearizable'; operations: number; keys: number }
  | {
      result: 'not linearizable';
      key: string;
      /** The key's operations, in call order. */
      operations: Operation[];
      /** The longest order the search found that explains a prefix of the key's history. */
      longestExplained: Operation[];
    }
  | { result: 'gave up'; key: string; steps: number };

export interface CheckOptions {
  /** Search steps allowed per key before giving up (a safeguard against a pathological history). */
  maxStepsPerKey?: number;
}

/** Checks a whole history: every key's operations, each key on its own. */
export function checkLinearizable(history: readonly Operation[], options: CheckOptions = {}): Verdict {
  const maxSteps = options.maxStepsPerKey ?? 5_000_000;
  const byKey = new Map<string, Operation[]>();
  let checked = 0;
  for (const operation of history) {
    if (hadNoEffect(operation)) continue;
    const ops = byKey.get(operation.key) ?? [];
    ops.push(operation);
    byKey.set(operation.key, ops);
    checked++;
  }
  for (const [key, ops] of byKey) {
    const outcome = searchLinearization(ops, maxSteps);
    if (outcome.kind === 'gave up') return { result: 'gave up', key, steps: outcome.steps };
    if (outcome.kind === 'none') {
      return {
        result: 'not linearizable',
        key,
        operations: [...ops].sort((a, b) => a.call - b.call),
        longestExplained: outcome.longest.map((index) => ops[index]),
      };
    }
  }
  return { result: 'linearizable', operations: checked, keys: byKey.size };
}

/** A readable account of a verdict, for a failing test's message. */
export function describeVerdict(verdict: Verdict): string {
  switch (verdict.result) {
    case 'linearizable':
      return `linearizable: ${verdict.operations} operations on ${verdict.keys} keys`;
    case 'gave up':
      return `gave up on key ${JSON.stringify(verdict.key)} after ${verdict.steps} search steps`;
    case 'not linearizable': {
      const start = verdict.operations[0]?.call ?? 0;
      const show = (op: Operation) =>
        `  client ${op.client}: ${requestLine(op)} -> ${op.reply ?? '(no reply)'}  [${(op.call - start).toFixed(3)}, ${(op.return - start).toFixed(3)}]`;
      const explained = new Set(verdict.longestExplained);
      const unexplained = verdict.operations.filter((op) => !explained.has(op));
      return [
        `not linearizable on key ${JSON.stringify(verdict.key)} (${verdict.operations.length} operations)`,
        `the longest explainable order (${verdict.longestExplained.length} operations) ends with:`,
        ...verdict.longestExplained.slice(-8).map(show),
        `first operations it could not place:`,
        ...unexplained.slice(0, 8).map(show),
      ].join('\n');
    }
  }
}

/** The request line an operation stands for. */
export function requestLine(op: Pick<Operation, 'command' | 'key' | 'value'>): string {
  return op.command === 'SET' ? `SET ${op.key} ${op.value}` : `${op.command} ${op.key}`;
}

// --- the sequential model: one key of a single-threaded store ---

/** A key's state: its value, or undefined when absent. */
type State = string | undefined;

const INT64_MAX = 2n ** 63n - 1n;
const MODELLED_ERRORS = ['ERR value is not an integer', 'ERR increment would overflow'];

function hadNoEffect(op: Operation): boolean {
  return op.reply !== null && op.reply.startsWith('ERR') && !MODELLED_ERRORS.includes(op.reply);
}

/** What a sequential store answers to `op` in `state`, and the state after it. */
function apply(state: State, op: Operation): { reply: string; next: State } {
  switch (op.command) {
    case 'GET':
      return { reply: state === undefined ? 'NIL' : `VALUE ${state}`, next: state };
    case 'SET':
      return { reply: 'OK', next: op.value ?? '' };
    case 'DEL':
      return { reply: state === undefined ? 'NIL' : 'OK', next: undefined };
    case 'INCR': {
      const current = state === undefined ? 0n : asInt64(state);
      if (current === undefined) return { reply: 'ERR value is not an integer', next: state };
      if (current + 1n > INT64_MAX) return { reply: 'ERR increment would overflow', next: state };
      const next = `${current + 1n}`;
      return { reply: `VALUE ${next}`, next };
    }
  }
}

function asInt64(text: string): bigint | undefined {
  if (!/^-?\d{1,19}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value <= INT64_MAX ? value : undefined;
}

// --- the search ---

/** One call or return event in a doubly linked list (so lifting an operation out and back is O(1)). */
interface Entry {
  op: number;
  isCall: boolean;
  /** For a call, its return. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

type SearchOutcome = { kind: 'found' } | { kind: 'none'; longest: number[] } | { kind: 'gave up'; steps: number };

function searchLinearization(ops: Operation[], maxSteps: number): SearchOutcome {
  const head = eventList(ops);
  const linearized = new Uint32Array(Math.ceil(ops.length / 32));
  const tried = new Set<string>();
  const undo: { entry: Entry; state: State }[] = [];
  let longest: number[] = [];
  let state: State = undefined;
  let entry = head.next;
  let steps = 0;

  while (head.next !== null && entry !== null) {
    if (++steps > maxSteps) return { kind: 'gave up', steps };
    if (entry.isCall) {
      const op = ops[entry.op];
      const { reply, next } = apply(state, op);
      if (op.reply === null || op.reply === reply) {
        toggle(linearized, entry.op);
        const memo = `${linearized.join(',')}|${next === undefined ? '\u0000absent' : next}`;
        if (!tried.has(memo)) {
          tried.add(memo);
          undo.push({ entry, state });
          state = next;
          lift(entry);
          if (undo.length > longest.length) longest = undo.map((step) => step.entry.op);
          entry = head.next;
          continue;
        }
        toggle(linearized, entry.op);
      }
      entry = entry.next;
    } else {
      // An operation returned before any order could place it: revisit the last choice.
      const last = undo.pop();
      if (last === undefined) return { kind: 'none', longest };
      state = last.state;
      toggle(linearized, last.entry.op);
      unlift(last.entry);
      entry = last.entry.next;
    }
  }
  return { kind: 'found' };
}

/**
 * The history's calls and returns in time order, behind a sentinel head. At
 * equal times calls come first: operations that touch are taken as
 * overlapping, the lenient reading of a clock too coarse to tell.
 */
function eventList(ops: Operation[]): Entry {
  const events = ops.flatMap((op, index) => [
    { time: op.call, isCall: true, op: index },
    { time: op.return, isCall: false, op: index },
  ]);
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Entry = { op: -1, isCall: false, match: null, prev: null, next: null };
  const calls = new Map<number, Entry>();
  let last = head;
  for (const event of events) {
    const entry: Entry = { op: event.op, isCall: event.isCall, match: null, prev: last, next: null };
    last.next = entry;
    last = entry;
    if (event.isCall) calls.set(event.op, entry);
    else calls.get(event.op)!.match = entry;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

function toggle(bits: Uint32Array, index: number): void {
  bits[index >>> 5] ^= 1 << (index & 31);
}
