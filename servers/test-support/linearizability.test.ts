// Specification of the linearizability checker itself, on small histories
// whose verdict can be worked out by hand, and on generated histories that
// are linearizable by construction.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, describeVerdict, KvCommand, Operation } from './linearizability.js';

/** A terse operation: `op(client, 'SET x 1', call, return, reply)`. */
function op(client: number, request: string, call: number, ret: number, reply: string | null): Operation {
  const [command, key, ...rest] = request.split(' ');
  return {
    client,
    command: command as KvCommand,
    key,
    ...(command === 'SET' ? { value: rest.join(' ') } : {}),
    reply,
    call,
    return: ret,
  };
}

const verdictOf = (history: Operation[]) => checkLinearizable(history).result;

describe('checkLinearizable on hand-made histories', () => {
  it('accepts an empty history', () => {
    expect(checkLinearizable([])).toEqual({ result: 'linearizable', operations: 0, keys: 0 });
  });

  it('accepts a sequential history that a single store would answer the same way', () => {
    const history = [
      op(1, 'GET x', 0, 1, 'NIL'),
      op(1, 'SET x a', 2, 3, 'OK'),
      op(2, 'GET x', 4, 5, 'VALUE a'),
      op(2, 'INCR n', 6, 7, 'VALUE 1'),
      op(1, 'DEL x', 8, 9, 'OK'),
      op(1, 'DEL x', 10, 11, 'NIL'),
      op(2, 'INCR x', 12, 13, 'VALUE 1'),
    ];
    expect(checkLinearizable(history)).toEqual({ result: 'linearizable', operations: 7, keys: 2 });
  });

  it('rejects a read of an old value after the write that replaced it had returned', () => {
    const history = [op(1, 'SET x a', 0, 1, 'OK'), op(1, 'SET x b', 2, 3, 'OK'), op(2, 'GET x', 4, 5, 'VALUE a')];
    expect(verdictOf(history)).toBe('not linearizable');
  });

  it('accepts either the old or the new value for a read that overlaps a write', () => {
    const before = op(1, 'SET x old', 0, 1, 'OK');
    const write = op(1, 'SET x new', 2, 6, 'OK');
    expect(verdictOf([before, write, op(2, 'GET x', 3, 4, 'VALUE old')])).toBe('linearizable');
    expect(verdictOf([before, write, op(2, 'GET x', 3, 4, 'VALUE new')])).toBe('linearizable');
  });

  it('rejects two reads that see a write undone: new, then old, one after the other, both during the write', () => {
    const history = [
      op(1, 'SET x old', 0, 1, 'OK'),
      op(1, 'SET x new', 2, 10, 'OK'),
      op(2, 'GET x', 3, 4, 'VALUE new'),
      op(3, 'GET x', 5, 6, 'VALUE old'),
    ];
    expect(verdictOf(history)).toBe('not linearizable');
  });

  it('rejects a read of a value nobody wrote', () => {
    expect(verdictOf([op(1, 'SET x a', 0, 1, 'OK'), op(2, 'GET x', 2, 3, 'VALUE b')])).toBe('not linearizable');
  });

  it('rejects two overlapping INCRs that both answer 1: an update was lost', () => {
    expect(verdictOf([op(1, 'INCR c', 0, 5, 'VALUE 1'), op(2, 'INCR c', 1, 6, 'VALUE 1')])).toBe('not linearizable');
  });

  it('accepts overlapping INCRs answering 1 and 2 in either order, however their intervals fall', () => {
    expect(verdictOf([op(1, 'INCR c', 0, 5, 'VALUE 2'), op(2, 'INCR c', 1, 6, 'VALUE 1')])).toBe('linearizable');
    expect(verdictOf([op(1, 'INCR c', 0, 5, 'VALUE 1'), op(2, 'INCR c', 1, 6, 'VALUE 2')])).toBe('linearizable');
  });

  it('rejects INCRs whose answers contradict real time: the later call got the smaller value', () => {
    expect(verdictOf([op(1, 'INCR c', 0, 1, 'VALUE 2'), op(2, 'INCR c', 2, 3, 'VALUE 1')])).toBe('not linearizable');
  });

  it('takes operations that touch at one instant as overlapping', () => {
    expect(verdictOf([op(1, 'INCR c', 0, 2, 'VALUE 2'), op(2, 'INCR c', 2, 3, 'VALUE 1')])).toBe('linearizable');
  });

  it('expects INCR of a value that is not an integer to be refused, and a refusal to change nothing', () => {
    const set = op(1, 'SET c word', 0, 1, 'OK');
    expect(verdictOf([set, op(2, 'INCR c', 2, 3, 'ERR value is not an integer'), op(2, 'GET c', 4, 5, 'VALUE word')])).toBe('linearizable');
    expect(verdictOf([set, op(2, 'INCR c', 2, 3, 'VALUE 1')])).toBe('not linearizable');
    expect(verdictOf([op(1, 'INCR c', 0, 1, 'ERR value is not an integer')])).toBe('not linearizable');
  });

  it('leaves out operations whose ERR reply says they never ran (server busy, store full)', () => {
    const history = [
      op(1, 'SET x a', 0, 1, 'OK'),
      op(2, 'SET x b', 2, 3, 'ERR store full'),
      op(3, 'INCR c', 2, 3, 'ERR server busy'),
      op(1, 'GET x', 4, 5, 'VALUE a'),
    ];
    expect(checkLinearizable(history)).toEqual({ result: 'linearizable', operations: 2, keys: 1 });
  });

  it('lets an operation that never got a reply have taken effect, or not', () => {
    const lost = op(1, 'SET x maybe', 1, Infinity, null);
    const start = op(2, 'SET x before', 0, 1, 'OK');
    expect(verdictOf([start, lost, op(2, 'GET x', 5, 6, 'VALUE maybe')])).toBe('linearizable');
    expect(verdictOf([start, lost, op(2, 'GET x', 5, 6, 'VALUE before')])).toBe('linearizable');
    expect(verdictOf([start, lost, op(2, 'GET x', 5, 6, 'VALUE other')])).toBe('not linearizable');
  });

  it('names the key whose history fails and explains it', () => {
    const history = [op(1, 'INCR good', 0, 1, 'VALUE 1'), op(1, 'INCR bad', 0, 5, 'VALUE 1'), op(2, 'INCR bad', 1, 6, 'VALUE 1')];
    const verdict = checkLinearizable(history);
    expect(verdict).toMatchObject({ result: 'not linearizable', key: 'bad' });
    if (verdict.result !== 'not linearizable') throw new Error('unreachable');
    expect(verdict.operations).toHaveLength(2);
    expect(verdict.longestExplained).toHaveLength(1);
    expect(describeVerdict(verdict)).toMatch(/not linearizable on key "bad"[\s\S]*client 2: INCR bad -> VALUE 1/);
  });

  it('gives up, rather than searching forever, once a key has used its step budget', () => {
    const history = Array.from({ length: 12 }, (_, i) => op(i, 'INCR c', 0, 100, `VALUE ${12 - i}`));
    expect(checkLinearizable(history, { maxStepsPerKey: 5 })).toMatchObject({ result: 'gave up', key: 'c' });
    expect(verdictOf(history)).toBe('linearizable');
  });
});

interface PlannedStep {
  client: number;
  command: KvCommand;
  key: string;
  /** Idle time before the call, time from call to effect, and from effect to return. */
  think: number;
  before: number;
  after: number;
}

/**
 * A history that is linearizable by construction: clients issue operations
 * one after another; each operation takes effect at an instant inside its
 * interval, and its reply is what a sequential store answers when the
 * operations are applied in the order of those instants.
 */
function linearizableHistory(clients: number, steps: PlannedStep[]): Operation[] {
  const free = Array<number>(clients).fill(0);
  const planned = steps.map((step, index) => {
    const client = step.client % clients;
    const call = free[client] + step.think;
    const point = call + step.before + index / 1000; // distinct instants
    const ret = point + step.after;
    free[client] = ret;
    return { ...step, client, call, point, ret, value: step.command === 'SET' ? `${index * 1000}` : undefined, reply: '' };
  });
  const store = new Map<string, string>();
  for (const step of [...planned].sort((x, y) => x.point - y.point)) {
    const current = store.get(step.key);
    switch (step.command) {
      case 'GET':
        step.reply = current === undefined ? 'NIL' : `VALUE ${current}`;
        break;
      case 'SET':
        store.set(step.key, step.value!);
        step.reply = 'OK';
        break;
      case 'DEL':
        step.reply = current === undefined ? 'NIL' : 'OK';
        store.delete(step.key);
        break;
      case 'INCR': {
        const next = `${BigInt(current ?? '0') + 1n}`;
        store.set(step.key, next);
        step.reply = `VALUE ${next}`;
      }
    }
  }
  return planned.map((step) => ({
    client: step.client,
    command: step.command,
    key: step.key,
    ...(step.value === undefined ? {} : { value: step.value }),
    reply: step.reply,
    call: step.call,
    return: step.ret,
  }));
}

function plannedSteps(commands: KvCommand[], length: { minLength?: number; maxLength: number }): fc.Arbitrary<PlannedStep[]> {
  const step = fc.record({
    client: fc.nat(),
    command: fc.constantFrom(...commands),
    key: fc.constantFrom('a', 'b', 'c'),
    think: fc.integer({ min: 0, max: 20 }),
    before: fc.integer({ min: 0, max: 30 }),
    after: fc.integer({ min: 0, max: 30 }),
  });
  return fc.array(step, { ...length, size: 'max' });
}

const generatedHistory = (commands: KvCommand[]) =>
  fc.tuple(fc.integer({ min: 1, max: 8 }), plannedSteps(commands, { maxLength: 200 })).map(([clients, steps]) => linearizableHistory(clients, steps));

describe('checkLinearizable on generated histories', () => {
  it('accepts every history in which each operation took effect at some instant between its call and return', () => {
    fc.assert(
      fc.property(generatedHistory(['GET', 'SET', 'INCR', 'DEL']), (history) => {
        const verdict = checkLinearizable(history);
        expect(verdict.result, describeVerdict(verdict)).toBe('linearizable');
      }),
      { numRuns: 200 },
    );
  });

  it('rejects such a history of counters once one INCR is given the answer an INCR that returned before it got', () => {
    fc.assert(
      fc.property(generatedHistory(['GET', 'INCR']), fc.nat(), (history, pick) => {
        const completedBefore = (later: Operation) =>
          history.filter((earlier) => earlier.command === 'INCR' && earlier.key === later.key && earlier.return < later.call);
        const victims = history.filter((o) => o.command === 'INCR' && completedBefore(o).length > 0);
        fc.pre(victims.length > 0);
        const victim = victims[pick % victims.length];
        const earlier = completedBefore(victim)[0];
        const tampered = history.map((o) => (o === victim ? { ...o, reply: earlier.reply } : o));
        expect(checkLinearizable(tampered).result).toBe('not linearizable');
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with a brute-force search over every order on small random histories', () => {
    // Replies a command can give, so that histories are linearizable often enough to test both verdicts.
    const plausible: Record<KvCommand, string[]> = {
      GET: ['NIL', 'VALUE 1', 'VALUE 2', 'VALUE x'],
      SET: ['OK'],
      INCR: ['VALUE 1', 'VALUE 2', 'VALUE 3', 'ERR value is not an integer'],
      DEL: ['OK', 'NIL'],
    };
    const randomOp = fc
      .record({
        client: fc.nat({ max: 3 }),
        command: fc.constantFrom<KvCommand>('GET', 'SET', 'INCR', 'INCR', 'DEL'),
        key: fc.constantFrom('a', 'a', 'b'),
        value: fc.constantFrom('1', '2', 'x'),
        call: fc.integer({ min: 0, max: 20 }),
        length: fc.integer({ min: 0, max: 10 }),
        reply: fc.nat(),
      })
      .map<Operation>(({ value, length, command, reply, ...rest }) => ({
        ...rest,
        command,
        ...(command === 'SET' ? { value } : {}),
        reply: plausible[command][reply % plausible[command].length],
        return: rest.call + length,
      }));
    fc.assert(
      fc.property(fc.array(randomOp, { maxLength: 6 }), (history) => {
        expect(checkLinearizable(history).result === 'linearizable').toBe(bruteForceLinearizable(history));
      }),
      { numRuns: 2000 },
    );
  });

  it('checks a history the size of the model tests (8 clients x 60 operations on 3 keys) in well under a second', () => {
    const [steps] = fc.sample(plannedSteps(['GET', 'SET', 'INCR'], { minLength: 480, maxLength: 480 }), { numRuns: 1, seed: 42 });
    const history = linearizableHistory(8, steps);
    const started = performance.now();
    const verdict = checkLinearizable(history);
    expect(verdict).toEqual({ result: 'linearizable', operations: 480, keys: 3 });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

/** Tries every order of the operations: the definition of linearizability, at factorial cost. */
function bruteForceLinearizable(history: Operation[]): boolean {
  const mustPrecede = (a: Operation, b: Operation) => a.return < b.call;
  const place = (done: Operation[], left: Operation[]): boolean => {
    if (left.length === 0) return answersMatch(done);
    return left.some(
      (candidate, i) =>
        left.every((other) => other === candidate || !mustPrecede(other, candidate)) &&
        place(
          [...done, candidate],
          left.filter((_, j) => j !== i),
        ),
    );
  };
  return place([], history);
}

/** Whether a sequential store, fed the operations in this order, gives each its recorded reply. */
function answersMatch(order: Operation[]): boolean {
  const store = new Map<string, string>();
  return order.every((o) => {
    const current = store.get(o.key);
    let expected: string;
    if (o.command === 'GET') expected = current === undefined ? 'NIL' : `VALUE ${current}`;
    else if (o.command === 'SET') {
      store.set(o.key, o.value!);
      expected = 'OK';
    } else if (o.command === 'DEL') {
      expected = current === undefined ? 'NIL' : 'OK';
      store.delete(o.key);
    } else if (current !== undefined && !/^-?\d+$/.test(current)) expected = 'ERR value is not an integer';
    else {
      const next = String(Number(current ?? 0) + 1);
      store.set(o.key, next);
      expected = `VALUE ${next}`;
    }
    return o.reply === expected;
  });
}
