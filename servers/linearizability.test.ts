// Every model promises that store operations are linearizable across all
// connections and threads. This test holds each of the four, run as a real
// process, to that promise: concurrent clients run random GET, SET and INCR
// on a few keys, record when each request was sent and answered, and the
// checker (test-support/linearizability.ts) must find an order that explains
// every reply.
//
// A checker that accepts everything would pass that too, so the second half
// shows it rejecting a store with a deliberate race (test-support/racy-store.ts)
// run on real threads, and accepting the real store run the same way.

import { afterAll, describe, expect, it } from 'vitest';
import type { ModelName } from './config.js';
import { checkLinearizable, describeVerdict, KvCommand, Operation, requestLine } from './test-support/linearizability.js';
import { counterHistory } from './test-support/racy-store.js';
import { LineClient, ServerProcess, startServerProcess } from './test-support/server-process.js';
import { seededRandom as random } from '../clients/seeded-random.js';

const CLIENTS = 8;
const OPERATIONS_PER_CLIENT = 60;
const KEYS = ['lin:a', 'lin:b', 'lin:c'];

/**
 * One client's part: random operations, one at a time, each timed around its
 * request. SET values are unique to the operation (and integers, so that INCR
 * may follow them), which makes every read attributable to one write.
 */
async function runClient(port: number, client: number, seed: number): Promise<Operation[]> {
  const next = random(seed * 1000 + client);
  const connection = await LineClient.connect(port);
  const history: Operation[] = [];
  try {
    for (let i = 0; i < OPERATIONS_PER_CLIENT; i++) {
      const roll = next();
      const command: KvCommand = roll < 0.4 ? 'GET' : roll < 0.7 ? 'SET' : 'INCR';
      const key = KEYS[Math.floor(next() * KEYS.length)];
      const value = command === 'SET' ? `${(client * 1000 + i + 1) * 1000}` : undefined;
      const call = performance.now();
      const reply = await connection.request(requestLine({ command, key, value }));
      history.push({
        client,
        command,
        key,
        ...(value === undefined ? {} : { value }),
        reply,
        call,
        return: reply === null ? Infinity : performance.now(),
      });
    }
  } finally {
    // The blocking model serves the next connection only once this one is gone.
    connection.close();
  }
  return history;
}

const MODELS: [ModelName, string[]][] = [
  ['blocking', []],
  ['per-connection', []],
  ['pool', ['--workers=2']],
  ['async', []],
];

describe('every model is linearizable', () => {
  const running: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
  });

  for (const [model, flags] of MODELS) {
    it(`${model}: ${CLIENTS} concurrent clients' GET, SET and INCR on ${KEYS.length} keys form a linearizable history`, async () => {
      const server = await startServerProcess(model, ...flags);
      running.push(server);
      const seed = Date.now() % 100_000;
      const histories = await Promise.all(Array.from({ length: CLIENTS }, (_, client) => runClient(server.port, client, seed)));
      const history = histories.flat();
      expect(history).toHaveLength(CLIENTS * OPERATIONS_PER_CLIENT);
      expect(
        history.every((op) => op.reply !== null && !op.reply.startsWith('ERR')),
        'every request was answered without error',
      ).toBe(true);
      const verdict = checkLinearizable(history);
      expect(verdict.result, `seed ${seed}: ${describeVerdict(verdict)}`).toBe('linearizable');
      expect(await server.stop()).toBe(0);
    });
  }
});

describe('the check catches a race', () => {
  it('accepts a history of INCR and GET recorded on four threads sharing the real store', async () => {
    const history = await counterHistory({ store: 'locked', threads: 4, operations: 200 });
    const verdict = checkLinearizable(history);
    expect(verdict.result, describeVerdict(verdict)).toBe('linearizable');
  });

  it('rejects the history of a store whose INCR reads and writes in two steps, on three threads', async () => {
    // A race shows only when threads interleave in its window; a few rounds make that all but certain.
    const verdicts = [];
    for (let round = 0; round < 5; round++) {
      const verdict = checkLinearizable(await counterHistory({ store: 'racy', threads: 3, operations: 150 }));
      verdicts.push(verdict.result);
      if (verdict.result === 'not linearizable') break;
    }
    expect(verdicts.at(-1), `verdicts per round: ${verdicts.join(', ')}`).toBe('not linearizable');
  });
});
