// Test support: run a real server process on a free port, and talk to it over
// real TCP, the way a client would. The protocol suite uses nothing else, so
// it tests the compiled program people run, not an in-process imitation.

import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModelName } from '../config.js';
import { LineClient } from '../../clients/line-client.js';
import { startServer, type ServerHandle } from '../../bench/server-process.js';

export { LineClient };

export const SERVE = fileURLToPath(new URL('../../dist/servers/serve.js', import.meta.url));

/** A server process started for a test: the bench's handle, with a test's stop. */
export interface ServerProcess extends Omit<ServerHandle, 'port' | 'stop'> {
  /** The line-protocol port (0 for a server started with --no-line). */
  port: number;
  /** The HTTP front's port, or 0 when it serves none. */
  httpPort: number;
  /** Sends `signal` (SIGTERM) and resolves with the exit code (or the signal name); never forces. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the compiled server with `args` after serve.js, through the bench's
 * own startServer (one reader of the listening line for tests and runs alike).
 */
export async function startServe(args: string[]): Promise<ServerProcess> {
  const handle = await startServer({ command: process.execPath, args: [SERVE, ...args] }, { keepOutput: true });
  return {
    ...handle,
    port: handle.port ?? 0,
    httpPort: handle.http?.port ?? 0,
    async stop(signal = 'SIGTERM') {
      if (!handle.hasExited()) handle.child.kill(signal);
      const { code, signal: killedBy } = await handle.exited;
      return code ?? killedBy ?? -1;
    },
  };
}

export function startServerProcess(model: ModelName, ...flags: string[]): Promise<ServerProcess> {
  return startServe([`--model=${model}`, '--port=0', ...flags]);
}

/** Runs `body` against a fresh server process, and always stops the server after. */
export async function withServer<T>(model: ModelName, flags: string[], body: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await startServerProcess(model, ...flags);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** Runs `body` against a fresh server with the HTTP front on a port of its own (beside the line port unless `--no-line` is given). */
export function withHttpServer<T>(model: ModelName, flags: string[], body: (server: ServerProcess) => Promise<T>): Promise<T> {
  return withServer(model, ['--http-port=0', ...flags], body);
}

/** A plain socket, for tests that need bytes rather than lines (a reset, a client that never reads). */
export function rawConnection(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

/** Resident memory of a process in MiB, from /proc (Linux). */
export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
