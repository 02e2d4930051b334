// The redis dialect against a real Redis, when one is installed (the
// calibration in the comparison suite depends on it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from './index.js';
import { defaultLoadOptions } from './types.js';

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

describe.skipIf(!haveRedis)('redis dialect', () => {
  let redis: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      redis.stdout!.setEncoding('utf8').on('data', (text: string) => {
        out += text;
        if (/ready to accept connections/i.test(out)) resolve();
      });
      redis.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
  });
  afterAll(() => {
    redis?.kill('SIGTERM');
  });

  const base = { ...defaultLoadOptions, dialect: 'redis' as const, connections: 4, warmupSec: 0, durationSec: undefined };

  it('drives Redis with inline ECHO and checks each bulk-string reply', async () => {
    const result = await runLoad({ ...base, port, workload: 'echo', requests: 500 });
    expect(result.ok).toBe(500);
    expect(result.errors.total).toBe(0);
  });

  it('fills the keyspace and checks every GET against what this run SET, pipelined', async () => {
    const result = await runLoad({ ...base, port, workload: 'kv', keys: 100, readRatio: 0.5, pipeline: 4, requests: 2000 });
    expect(result.ok).toBe(2000);
    expect(result.errors.total).toBe(0);
  });
});
