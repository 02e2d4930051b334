// Durability, end to end: real server processes with a data directory, over
// TCP. What a server promises with `--data-dir`: it starts only from a log it
// can trust (a torn tail is cut and reported, damage in the middle stops it
// unless --repair), it never shares a directory, it compacts on request, and
// under `--fsync=always` it acknowledges no write before an fsync covering
// that write has returned. That last promise cannot be seen from outside the
// machine (a killed process loses nothing the kernel holds), so the servers
// check it themselves under --test-hooks, at each acknowledgement, and this
// file asserts that the check never misses, on every model, and that it does
// miss when the policy allows it to (`--fsync=no`), so it is known to work.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS, ModelName } from './config.js';
import { temporaryDirectories } from './store/durability/test-support/data-dirs.js';
import { LineClient, SERVE, startServerProcess, withServer } from './test-support/server-process.js';

const dataDirectory = temporaryDirectories();

/** Runs serve.js expecting it to refuse to start: its exit code and what it said. */
function failedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVE, '--port=0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server started instead of refusing: ${args.join(' ')}`));
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** Writes `count` keys, one request at a time, then lets the server be killed: nothing is shut down cleanly. */
async function writeThenKill(model: ModelName, dir: string, count: number): Promise<void> {
  const server = await startServerProcess(model, `--data-dir=${dir}`, '--fsync=always');
  const client = await LineClient.connect(server.port);
  for (let i = 0; i < count; i++) expect(await client.request(`SET key:${i} value-${i}`)).toBe('OK');
  client.close();
  await server.stop('SIGKILL');
}

/** The newest segment that holds records. */
function newestSegment(dir: string): string {
  const segments = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.log') && fs.statSync(path.join(dir, name)).size > 0)
    .sort();
  return path.join(dir, segments[segments.length - 1]);
}

/** The part of STATS these tests read. */
interface DurabilityStats {
  durability?: { acks: number; acksNotDurable: number; fsyncs: number; recordsWritten: number; compactions: number; logBytes: number };
}

async function statsOf(client: LineClient): Promise<DurabilityStats> {
  return JSON.parse((await client.request('STATS'))!) as DurabilityStats;
}

/** `clients` connections each write `writes` times (SET, INCR, DEL in turn), all at once. */
async function concurrentWrites(port: number, clients: number, writes: number): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = await LineClient.connect(port);
      for (let i = 0; i < writes; i++) {
        const reply = await client.request(i % 3 === 0 ? `SET w:${c}:${i} ${i}` : i % 3 === 1 ? `INCR n:${c}` : `DEL w:${c}:${i - 2}`);
        expect(reply).toMatch(/^(OK|VALUE \d+)$/);
      }
      client.close();
    }),
  );
}

describe.each(MODELS)('the %s model with a data directory', (model) => {
  it('acknowledges under --fsync=always only writes whose record an fsync already covered (the promise check)', async () => {
    await withServer(model, [`--data-dir=${dataDirectory()}`, '--fsync=always', '--test-hooks', '--workers=4'], async (server) => {
      await concurrentWrites(server.port, 8, 30);
      const client = await LineClient.connect(server.port);
      const durability = (await statsOf(client)).durability!;
      expect(durability.acks).toBe(8 * 30);
      expect(durability.acksNotDurable).toBe(0);
      expect(durability.fsyncs).toBeGreaterThan(0);
      expect(durability.fsyncs).toBeLessThanOrEqual(durability.recordsWritten);
      client.close();
    });
  });

  it('lets the promise check see acknowledgements made before their fsync under --fsync=no, so the check can fail', async () => {
    await withServer(model, [`--data-dir=${dataDirectory()}`, '--fsync=no', '--test-hooks'], async (server) => {
      await concurrentWrites(server.port, 2, 6);
      const client = await LineClient.connect(server.port);
      const durability = (await statsOf(client)).durability!;
      expect(durability.acks).toBe(12);
      expect(durability.acksNotDurable).toBe(12);
      client.close();
    });
  });

  it('brings back after a restart every write it acknowledged, deletes and increments included', async () => {
    const dir = dataDirectory();
    await withServer(model, [`--data-dir=${dir}`], async (server) => {
      const client = await LineClient.connect(server.port);
      client.send('SET kept yes', 'SET gone soon', 'DEL gone', 'INCR counter', 'INCR counter');
      expect(await client.readLines(5)).toEqual(['OK', 'OK', 'OK', 'VALUE 1', 'VALUE 2']);
      client.close();
    });
    await withServer(model, [`--data-dir=${dir}`], async (server) => {
      expect(server.settings['recovered-records']).toBe(5);
      expect(server.settings['dropped-bytes']).toBe(0);
      const client = await LineClient.connect(server.port);
      client.send('GET kept', 'GET gone', 'GET counter');
      expect(await client.readLines(3)).toEqual(['VALUE yes', 'NIL', 'VALUE 2']);
      client.close();
    });
  });

  it('answers COMPACT with OK once the log is folded into a snapshot, and keeps the data', async () => {
    const dir = dataDirectory();
    await withServer(model, [`--data-dir=${dir}`], async (server) => {
      const client = await LineClient.connect(server.port);
      for (let i = 0; i < 20; i++) expect(await client.request(`SET same ${i}`)).toBe('OK');
      expect(await client.request('COMPACT')).toBe('OK');
      const durability = (await statsOf(client)).durability!;
      expect(durability.compactions).toBe(1);
      expect(durability.logBytes).toBe(0);
      expect(fs.readdirSync(dir).some((name) => name.endsWith('.snap'))).toBe(true);
      client.close();
    });
    await withServer(model, [`--data-dir=${dir}`], async (server) => {
      expect(server.settings['recovered-records']).toBe(1);
      const client = await LineClient.connect(server.port);
      expect(await client.request('GET same')).toBe('VALUE 19');
      client.close();
    });
  });
});

describe('a server without a data directory', () => {
  it('refuses COMPACT, and its STATS has no durability section', async () => {
    await withServer('async', [], async (server) => {
      const client = await LineClient.connect(server.port);
      expect(await client.request('COMPACT')).toBe('ERR no data directory: this server keeps its data in memory only');
      expect((await statsOf(client)).durability).toBeUndefined();
      client.close();
    });
  });
});

describe('start-up from a data directory', () => {
  it('cuts a torn last record, starts, and says how many bytes it dropped', async () => {
    const dir = dataDirectory();
    await writeThenKill('async', dir, 5);
    const segment = newestSegment(dir);
    fs.truncateSync(segment, fs.statSync(segment).size - 3);
    await withServer('async', [`--data-dir=${dir}`], async (server) => {
      expect(server.settings['recovered-records']).toBe(4);
      expect(server.settings['dropped-bytes']).toBeGreaterThan(0);
      const client = await LineClient.connect(server.port);
      client.send('GET key:3', 'GET key:4');
      expect(await client.readLines(2)).toEqual(['VALUE value-3', 'NIL']);
      client.close();
    });
  });

  it('cuts a tail of zeros (a size written before its data), starts, and reports the zeros dropped', async () => {
    const dir = dataDirectory();
    await writeThenKill('blocking', dir, 3);
    fs.appendFileSync(newestSegment(dir), Buffer.alloc(100));
    await withServer('blocking', [`--data-dir=${dir}`], async (server) => {
      expect(server.settings['recovered-records']).toBe(3);
      expect(server.settings['dropped-bytes']).toBe(100);
    });
  });

  it('refuses to start on a flipped byte in the middle of the log, naming the offset, and starts with --repair', async () => {
    const dir = dataDirectory();
    await writeThenKill('pool', dir, 6);
    const segment = newestSegment(dir);
    const bytes = fs.readFileSync(segment);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] ^= 0xff;
    fs.writeFileSync(segment, bytes);

    const refused = await failedStart(['--model=pool', `--data-dir=${dir}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad record at offset \d+/);
    expect(refused.stderr).toMatch(/repair/);

    await withServer('pool', [`--data-dir=${dir}`, '--repair'], async (server) => {
      expect(server.settings['recovered-records']).toBeLessThan(6);
      expect(server.settings['dropped-bytes']).toBeGreaterThan(0);
      expect(String(server.settings.dropped)).toMatch(/@\d+\+\d+$/);
    });
  });

  it('refuses a second server on a directory that a running server holds', async () => {
    const dir = dataDirectory();
    await withServer('async', [`--data-dir=${dir}`], async (first) => {
      const refused = await failedStart(['--model=blocking', `--data-dir=${dir}`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`in use by process ${first.pid}`);
      const client = await LineClient.connect(first.port);
      expect(await client.request('SET still serving')).toBe('OK');
      client.close();
    });
  });

  it('refuses bad durability flags with exit code 2 and a clear message', async () => {
    const badPolicy = await failedStart(['--model=async', `--data-dir=${dataDirectory()}`, '--fsync=sometimes']);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toMatch(/fsync/);
    const repairAlone = await failedStart(['--model=async', '--repair']);
    expect(repairAlone.code).toBe(2);
    expect(repairAlone.stderr).toContain('--repair needs --data-dir');
  });
});
