// The command line as a user meets it: compiled, run as a process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadResult } from './types.js';
import { startFakeServer, type TestServer } from './test-support/servers.js';

const cli = fileURLToPath(new URL('../../dist/clients/load/cli.js', import.meta.url));

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('npm run load', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startFakeServer();
    dir = mkdtempSync(join(tmpdir(), 'load-cli-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a summary table and, with --json, writes the whole result', async () => {
    const file = join(dir, 'result.json');
    const { code, stdout } = await runCli([
      '--port',
      String(server.port),
      '--requests',
      '300',
      '--warmup',
      '0',
      '--connections',
      '3',
      '--json',
      file,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/throughput\s+[\d,]+ req\/s/);
    expect(stdout).toMatch(/latency\s+p50 /);
    const result = JSON.parse(readFileSync(file, 'utf8')) as LoadResult;
    expect(result.ok).toBe(300);
    expect(result.perConnection.counts).toHaveLength(3);
    expect(result.latency.distribution.at(-1)!.percentile).toBe(100);
  });

  it('exits with code 2 and a message for an unknown flag or a bad value', async () => {
    const unknown = await runCli(['--port', String(server.port), '--conections', '4']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument: conections/);
    const bad = await runCli(['--port', String(server.port), '--read-ratio', '1.5', '--workload', 'kv']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/read ratio/);
  });

  it('exits with code 1 and says so when nothing listens on the port', async () => {
    const { code, stderr } = await runCli(['--port', '1', '--duration', '1']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot connect to 127\.0\.0\.1:1/);
  });
});
