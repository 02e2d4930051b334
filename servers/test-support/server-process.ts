// Test support: run a real server process on a free port, and talk to it over
// real TCP, the way a client would. The protocol suite uses nothing else, so
// it tests the compiled program people run, not an in-process imitation.

import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModelName } from '../config.js';
import { LineClient } from '../../clients/line-client.js';

export { LineClient };

const SERVE = fileURLToPath(new URL('../../dist/servers/serve.js', import.meta.url));

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** Everything the server printed, both streams. */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function startServerProcess(model: ModelName, ...flags: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVE, `--model=${model}`, '--port=0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout!.on('data', (chunk) => (printed += chunk));
  child.stderr!.on('data', (chunk) => (printed += chunk));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${printed}`)), 10_000);
    const onData = () => {
      const match = /listening on [^:]+:(\d+)/.exec(printed);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        port: Number(match[1]),
        child,
        output: () => printed,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${printed}`)));
  });
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
