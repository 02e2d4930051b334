// The hand-held client: it must be scriptable (--eval, piped stdin) and fail
// clearly when there is no server, because it is the first thing a learner runs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ServerProcess, startServerProcess } from '../servers/test-support/server-process.js';

const CLIENT = fileURLToPath(new URL('../dist/clients/client.js', import.meta.url));

function runClient(args: string[], input?: string) {
  return spawnSync(process.execPath, [CLIENT, ...args], { input, encoding: 'utf8', timeout: 10_000 });
}

describe('npm run client', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess('async');
  });
  afterAll(async () => {
    await server.stop();
  });

  it('sends each --eval command in order and prints one reply per line', () => {
    const run = runClient(['--port', String(server.port), '--eval', 'SET client:a 1', '--eval', 'INCR client:a', '--eval', 'GET client:a']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('OK\nVALUE 2\nVALUE 2\n');
  });

  it('reads commands piped on stdin and stops when the server closes after QUIT', () => {
    const run = runClient(['--port', String(server.port)], 'PING\nECHO piped\nQUIT\nPING\n');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('PONG\npiped\nBYE\n');
    expect(run.stderr).toContain('connection closed by server');
  });

  it('exits 1 with a hint when nothing listens on the port', () => {
    const run = runClient(['--port', '1', '--eval', 'PING']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('exits 2 with a message for an unknown flag', () => {
    const run = runClient(['--frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Unknown argument/);
  });
});
