// The kill test: on every model, clients write under `--fsync=always` while
// the server is killed with SIGKILL at a random moment, over and over, with
// compactions running in half the rounds; after each restart, every write
// that was acknowledged must read back with its acknowledged value or a
// later one. Values only ever grow (each key's writer counts up, INCR counts
// up), so "a later one" is "a larger one".
//
// What it can show: that the log, its recovery and its compaction lose no
// acknowledged write when the process dies at any instant, a compaction's
// included. What it cannot: SIGKILL leaves the kernel's page cache alone, so
// a write the server never fsynced survives it as well; `always` and `no`
// look the same here. The promise check (durability.test.ts) covers that.
//
// KILL_TEST_ROUNDS sets the rounds per model (8 by default: 32 kills in all);
// a soak: KILL_TEST_ROUNDS=100 npx vitest run servers/kill.test.ts

import { describe, expect, it } from 'vitest';
import { MODELS, ModelName } from './config.js';
import { temporaryDirectories } from './store/durability/test-support/data-dirs.js';
import { LineClient, pause, startServerProcess } from './test-support/server-process.js';

const ROUNDS = Number(process.env.KILL_TEST_ROUNDS ?? 8);
const WRITERS = 4;
const KEYS_PER_WRITER = 8;

const dataDirectory = temporaryDirectories();

/** What each key was last acknowledged with, across every round: its value can only be this or larger. */
type Acknowledged = Map<string, bigint>;

/** One writer: SETs its keys in turn to a rising count, and INCRs a counter of its own, until the server dies. */
async function write(port: number, writer: number, next: { value: bigint }, acked: Acknowledged): Promise<void> {
  const client = await LineClient.connect(port);
  for (let i = 0; ; i++) {
    const incr = i % 4 === 3;
    const key = incr ? `counter:${writer}` : `key:${writer}:${i % KEYS_PER_WRITER}`;
    const value = (next.value += 1n);
    const reply = await client.request(incr ? `INCR ${key}` : `SET ${key} ${value}`, 5_000).catch(() => null);
    if (reply === null) return client.close();
    const ackedValue = incr ? BigInt(/^VALUE (\d+)$/.exec(reply)![1]) : reply === 'OK' ? value : undefined;
    if (ackedValue === undefined) throw new Error(`unexpected reply ${reply}`);
    acked.set(key, ackedValue);
  }
}

/** Asks for compactions back to back until the server dies; counts the requests still unanswered at the kill. */
async function compactUntilKilled(port: number, inFlight: { count: number }): Promise<void> {
  const client = await LineClient.connect(port);
  for (;;) {
    inFlight.count += 1;
    const reply = await client.request('COMPACT', 10_000).catch(() => null);
    if (reply === null) return client.close();
    inFlight.count -= 1;
    expect(reply).toMatch(/^(OK|ERR a compaction is already running)$/);
  }
}

async function verify(port: number, acked: Acknowledged): Promise<void> {
  const client = await LineClient.connect(port);
  const keys = [...acked.keys()];
  client.send(...keys.map((key) => `GET ${key}`));
  const replies = await client.readLines(keys.length);
  keys.forEach((key, i) => {
    const found = /^VALUE (\d+)$/.exec(replies[i] ?? '');
    expect(found, `${key} was acknowledged with ${acked.get(key)}, reads ${replies[i]}`).not.toBeNull();
    expect(BigInt(found![1]) >= acked.get(key)!, `${key} was acknowledged with ${acked.get(key)}, reads ${found![1]}`).toBe(true);
  });
  client.close();
}

async function killRepeatedly(model: ModelName): Promise<{ kills: number; duringCompaction: number }> {
  const dir = dataDirectory();
  const acked: Acknowledged = new Map();
  const counts = Array.from({ length: WRITERS }, () => ({ value: 0n }));
  let duringCompaction = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const server = await startServerProcess(model, `--data-dir=${dir}`, '--fsync=always', '--workers=2');
    await verify(server.port, acked);
    const compacting = { count: 0 };
    const work = [
      ...counts.map((count, writer) => write(server.port, writer, count, acked)),
      ...(round % 2 === 1 ? [compactUntilKilled(server.port, compacting)] : []),
    ];
    await pause(80 + Math.random() * 250);
    await server.stop('SIGKILL');
    if (compacting.count > 0) duringCompaction += 1;
    await Promise.all(work);
  }
  const last = await startServerProcess(model, `--data-dir=${dir}`);
  await verify(last.port, acked);
  await last.stop();
  return { kills: ROUNDS, duringCompaction };
}

describe('a server killed with SIGKILL while clients write under --fsync=always', () => {
  const results: { kills: number; duringCompaction: number }[] = [];

  it.each(MODELS)('the %s model brings back every acknowledged write, with that value or a later one, after each kill', async (model) => {
    const result = await killRepeatedly(model);
    results.push(result);
    expect(result.kills).toBe(ROUNDS);
  });

  it('was killed at least 20 times in all, some of them during a compaction', () => {
    expect(results.reduce((sum, r) => sum + r.kills, 0)).toBeGreaterThanOrEqual(Math.min(20, ROUNDS * MODELS.length));
    expect(results.reduce((sum, r) => sum + r.duringCompaction, 0)).toBeGreaterThan(0);
  });
});
