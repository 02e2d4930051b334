// One server under test, as its own operating-system process.
//
// Every measurement starts a fresh process: a server that has already served
// another experiment carries a warm JIT, a grown heap and a filled store, and
// that would flatter (or burden) whichever cell came next. A separate process
// also lets the suite read the server's own CPU time, memory and thread count
// from /proc, untangled from the load generator's.
//
// The server chooses its own port (`--port 0`, `--http-port=0`) and says which
// in its first line, so nothing here guesses at free ports. Stopping is polite first
// (SIGTERM, which the servers treat as a graceful shutdown) and forceful after
// a deadline, so a wedged server can never hold up the suite.
//
// This is also the one launcher the tests use (servers/test-support/
// server-process.ts and the load generator's and the bench's test support
// wrap it), so the tests exercise the start, the reading of the listening
// line and the stop that a measurement runs. Tests ask it to `keepOutput`:
// everything the server prints, both streams, for their assertions.

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { LineClient } from '../clients/line-client.js';

export interface ServerCommand {
  /** The program to run: `node`, or `taskset` when the server is pinned to a core. */
  command: string;
  args: string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopInfo extends ExitInfo {
  /** True when SIGTERM was not enough and the process had to be killed. */
  forced: boolean;
  /** True when the process had already exited before it was asked to stop. */
  exitedEarly: boolean;
  stopMs: number;
}

export interface Address {
  host: string;
  port: number;
}

export interface StartOptions {
  /** Milliseconds to wait for the listening line. */
  startupTimeoutMs?: number;
  /** Keep everything the server prints, both streams, for `output()` (else only stderr's tail, and stdout is dropped). */
  keepOutput?: boolean;
}

export interface ServerHandle {
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited, however it came to. */
  exited: Promise<ExitInfo>;
  /** The line-protocol address; for a server started with --no-line, the HTTP one's host. */
  host: string;
  /** The line-protocol port, or null when the server serves HTTP only. */
  port: number | null;
  /** The HTTP front's address, when the server serves one. */
  http: Address | null;
  listeningLine: string;
  /** The settings the listening line announced. */
  settings: ServerSettings;
  startupMs: number;
  hasExited(): boolean;
  exitInfo(): ExitInfo | null;
  /** The last few kilobytes the server wrote to stderr, for failure reports. */
  stderrTail(): string;
  /** Everything the server printed, with `keepOutput`; else ''. */
  output(): string;
  stop(graceMs?: number): Promise<StopInfo>;
}

const TAIL_BYTES = 4096;
const ADDRESS = /^(http=)?([^\s=:[\]]+|\[[^\]]+\]):(\d+)$/;

/**
 * What a server says it runs with: the `name=value` words of its listening
 * line after the addresses, by the name of the flag that sets each
 * (`workers`, `max-workers`, `model`), whole numbers as numbers. The pool's
 * default worker count depends on the machine, so the flags alone do not say.
 */
export type ServerSettings = Record<string, number | string>;

/** A `listening on ...` line, read once: where the server listens, and with what settings. */
export interface ListeningAnnouncement {
  line: Address | null;
  http: Address | null;
  settings: ServerSettings;
}

/**
 * Reads a `listening on ...` line: the line protocol's address
 * (`127.0.0.1:7070`), the HTTP front's (`http=127.0.0.1:7080`), or both, in
 * the words before the settings, then the settings. Null if the line
 * announces neither address. This is the one reader of that line: the suite
 * records what it returns, and the report reads old files' lines with it.
 */
export function parseListening(text: string): ListeningAnnouncement | null {
  const m = /^listening on (.*)$/.exec(text.trim());
  if (!m) return null;
  const words = m[1].split(/\s+/);
  const found: ListeningAnnouncement = { line: null, http: null, settings: {} };
  let n = 0;
  for (; n < words.length; n++) {
    const a = ADDRESS.exec(words[n]);
    if (!a) break;
    const port = Number(a[3]);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
    found[a[1] ? 'http' : 'line'] = { host: a[2].replace(/^\[|\]$/g, ''), port };
  }
  if (!found.line && !found.http) return null;
  for (const word of words.slice(n)) {
    const eq = word.indexOf('=');
    if (eq <= 0) continue;
    const value = word.slice(eq + 1);
    found.settings[word.slice(0, eq)] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return found;
}

/** The addresses in a `listening on ...` line, or null if it announces none. */
export function parseListeningAddresses(line: string): { line: Address | null; http: Address | null } | null {
  const found = parseListening(line);
  return found ? { line: found.line, http: found.http } : null;
}

/** The line-protocol host and port from a `listening on host:port ...` line, or null if it names none. */
export function parseListeningLine(line: string): Address | null {
  return parseListening(line)?.line ?? null;
}

function keepTail(current: string, chunk: string): string {
  const joined = current + chunk;
  return joined.length > TAIL_BYTES ? joined.slice(joined.length - TAIL_BYTES) : joined;
}

/**
 * Starts the server and resolves once it has printed its listening line.
 * Rejects with the server's own words (its stderr) when it exits first or
 * stays silent past the deadline; in both cases no process is left behind.
 */
export function startServer(cmd: ServerCommand, { startupTimeoutMs = 10_000, keepOutput = false }: StartOptions = {}): Promise<ServerHandle> {
  const started = Date.now();
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  const record = (chunk: string) => {
    if (keepOutput) printed += chunk;
  };
  let stderr = '';
  let stdoutBuffer = '';
  let exit: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = keepTail(stderr, chunk);
    record(chunk);
  });
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', record);

  return new Promise<ServerHandle>((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (exit === null) child.kill('SIGKILL');
      const tail = stderr.trim();
      reject(new Error(tail ? `${reason}; stderr: ${tail}` : reason));
    };
    const timer = setTimeout(() => fail(`server printed no listening line within ${startupTimeoutMs} ms`), startupTimeoutMs);
    child.once('error', (err) => fail(`could not start ${cmd.command}: ${err.message}`));
    exited.then((info) => fail(`server exited before listening (exited with ${info.code ?? info.signal})`));
    child.stdout!.on('data', (chunk: string) => {
      if (settled) return; // later stdout is drained and dropped, so the pipe never fills
      stdoutBuffer += chunk;
      let newline: number;
      while ((newline = stdoutBuffer.indexOf('\n')) >= 0) {
        const line = stdoutBuffer.slice(0, newline).trim();
        stdoutBuffer = stdoutBuffer.slice(newline + 1);
        const address = parseListening(line);
        if (!address) continue;
        settled = true;
        clearTimeout(timer);
        resolve(
          handleFor(
            child,
            address,
            line,
            Date.now() - started,
            exited,
            () => exit,
            () => stderr,
            () => printed,
          ),
        );
        return;
      }
    });
  });
}

function handleFor(
  child: ChildProcess,
  address: ListeningAnnouncement,
  listeningLine: string,
  startupMs: number,
  exited: Promise<ExitInfo>,
  exitInfo: () => ExitInfo | null,
  stderrTail: () => string,
  output: () => string,
): ServerHandle {
  return {
    pid: child.pid!,
    child,
    exited,
    host: (address.line ?? address.http)!.host,
    port: address.line?.port ?? null,
    http: address.http,
    listeningLine,
    settings: address.settings,
    startupMs,
    hasExited: () => exitInfo() !== null,
    exitInfo,
    stderrTail: () => stderrTail().trim(),
    output,
    async stop(graceMs = 3000): Promise<StopInfo> {
      const began = Date.now();
      const early = exitInfo();
      if (early) return { ...early, forced: false, exitedEarly: true, stopMs: 0 };
      // A stopped process (a test may freeze one with SIGSTOP) must be continued before it can act on SIGTERM.
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
      clearTimeout(timer);
      if (!graceful) child.kill('SIGKILL');
      const info = await exited;
      return { ...info, forced: !graceful, exitedEarly: false, stopMs: Date.now() - began };
    },
  };
}

/** Tries `attempt` every 50 ms until it succeeds or `timeoutMs` has passed; resolves with the milliseconds it took. */
async function retryUntilReady(what: string, timeoutMs: number, attempt: (timeLeftMs: number) => Promise<void>): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const began = Date.now();
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    try {
      await attempt(Math.max(100, deadline - Date.now()));
      return Date.now() - began;
    } catch (err) {
      lastError = (err as Error).message;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`server did not answer ${what} within ${timeoutMs} ms (${lastError})`);
}

/**
 * Resolves once the server answers PING with PONG, retrying until the
 * deadline. The connection is closed before returning, which matters for the
 * blocking model: it serves one connection at a time and would otherwise keep
 * serving this one instead of the load generator's.
 */
export function waitForPong(host: string, port: number, timeoutMs = 5000): Promise<number> {
  return retryUntilReady('PING with PONG', timeoutMs, (left) => pingOnce(host, port, left));
}

async function pingOnce(host: string, port: number, timeoutMs: number): Promise<void> {
  const client = await LineClient.connect(port, host, { timeoutMs });
  try {
    const reply = await client.request('PING', timeoutMs).catch(() => {
      throw new Error('no reply to PING');
    });
    if (reply !== 'PONG') throw new Error(`PING answered with ${JSON.stringify(reply)}`);
  } finally {
    client.close();
    await client.closed;
  }
}

/**
 * Resolves once the HTTP front answers `GET /ping` with 200 PONG, retrying
 * until the deadline. Each attempt asks for `Connection: close`, so the
 * blocking model is free for the load run as soon as this returns.
 */
export function waitForHttpPing(host: string, port: number, timeoutMs = 5000): Promise<number> {
  return retryUntilReady('GET /ping with 200 PONG', timeoutMs, (left) => httpPingOnce(host, port, left));
}

function httpPingOnce(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/ping', agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        response.statusCode === 200 && body === 'PONG'
          ? resolve()
          : reject(new Error(`GET /ping answered ${response.statusCode} ${JSON.stringify(body.slice(0, 80))}`)),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('no answer to GET /ping')));
    request.on('error', reject);
  });
}
