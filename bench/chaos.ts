// Chaos: clients that vanish at random moments, and the promises that must
// survive them.
//
// A load test asks how fast a server is; this asks whether it stays correct
// while clients misbehave in the most ordinary way there is: they go away.
// Resetting clients pipeline SETs, INCRs and GETs on keys of their own and
// reset the connection (an RST, no goodbye) after a random number of replies,
// often with many requests still unanswered, so that the server's thread may
// be anywhere, also inside the shared store. Meanwhile a bystander pings, and
// a few steady clients run GET, SET and INCR on shared keys, one request at a
// time, recording a history that a linearizability checker can judge.
//
// Afterwards the run checks what must hold whatever the timing:
//   - every bystander ping was answered, and the server still answers;
//   - every acknowledged write reads back: each key holds the last value whose
//     SET was acknowledged, or a value sent after it (unanswered, it may or may
//     not have run); each counter is at least the last value an INCR returned
//     and at most the number of INCRs sent.
//
// A resetting client writes only its own keys, which is what makes that check
// exact; the steady clients' history covers concurrent writers to one key.
//
// On the blocking model, which serves one connection at a time, the bystander
// and the steady clients open a connection per request, or they would hold
// the only thread for ever.

import { LineClient } from '../clients/line-client.js';
import { startServer } from './server-process.js';
import { seededRandom } from '../clients/seeded-random.js';

export interface ChaosOptions {
  port: number;
  durationMs: number;
  /** Clients that pipeline and reset. */
  resetters: number;
  /** Clients whose history is recorded for the linearizability check. */
  steadyClients: number;
  /** Requests at most per steady client. */
  steadyOperations: number;
  /** One connection per request for the bystander and the steady clients (the blocking model). */
  connectionPerRequest: boolean;
  seed: number;
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, 'port' | 'connectionPerRequest'> = {
  durationMs: 20_000,
  resetters: 8,
  steadyClients: 3,
  steadyOperations: 120,
  seed: 1,
};

/** One steady client's request, timed around its reply, as the linearizability checker takes it. */
export interface SteadyOperation {
  client: number;
  command: 'GET' | 'SET' | 'INCR';
  key: string;
  value?: string;
  reply: string | null;
  call: number;
  return: number;
}

export interface ChaosReport {
  connections: number;
  resets: number;
  requestsSent: number;
  repliesRead: number;
  bystanderPings: number;
  bystanderWorstMs: number;
  /** Each broken promise, as a sentence; empty when everything held. */
  violations: string[];
  steadyHistory: SteadyOperation[];
}

const STEADY_KEYS = ['chaos:shared:a', 'chaos:shared:b', 'chaos:shared:c'];
const KEYS_PER_RESETTER = 4;
const PING_DEADLINE_MS = 2000;

/** What one resetting client sent to one of its keys, and which of it the server acknowledged. */
class KeyLedger {
  /** SET values in the order sent. */
  readonly sent: string[] = [];
  /** Index in `sent` of the last acknowledged SET, or -1. */
  lastAcknowledged = -1;
  incrementsSent = 0;
  highestIncrementReply = 0n;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const deadline = performance.now() + options.durationMs;
  const report: ChaosReport = {
    connections: 0,
    resets: 0,
    requestsSent: 0,
    repliesRead: 0,
    bystanderPings: 0,
    bystanderWorstMs: 0,
    violations: [],
    steadyHistory: [],
  };
  const ledgers = Array.from({ length: options.resetters }, () => new Map<string, KeyLedger>());
  await Promise.all([
    ...ledgers.map((ledger, client) => runResetter(options, client, ledger, deadline, report)),
    runBystander(options, deadline, report),
    ...Array.from({ length: options.steadyClients }, (_, client) => runSteadyClient(options, client, deadline, report)),
  ]);
  await checkAcknowledgedWrites(options.port, ledgers, report);
  return report;
}

async function runResetter(
  options: ChaosOptions,
  client: number,
  ledger: Map<string, KeyLedger>,
  deadline: number,
  report: ChaosReport,
): Promise<void> {
  const random = seededRandom(options.seed * 1000 + client);
  for (let connection = 0; performance.now() < deadline; connection++) {
    const line = await connectOrNull(options.port);
    if (!line) continue;
    report.connections++;
    const requests = Array.from({ length: 1 + Math.floor(random() * 300) }, (_, i) => resetterRequest(client, connection, i, random, ledger));
    line.write(requests.map((request) => `${request.line}\n`).join(''));
    report.requestsSent += requests.length;
    const resetAfter = Math.floor(random() * requests.length * 1.2);
    let answered = 0;
    for (; answered < Math.min(resetAfter, requests.length); answered++) {
      const reply = await line.readLine(30_000).catch(() => null);
      if (reply === null) break;
      report.repliesRead++;
      acknowledge(requests[answered], reply, ledger, report);
    }
    if (answered < requests.length) {
      line.socket.resetAndDestroy();
      report.resets++;
    } else line.close();
  }
}

interface ResetterRequest {
  line: string;
  key: string;
  kind: 'SET' | 'INCR' | 'GET';
  /** For a SET, its index in the key's ledger. */
  index?: number;
}

function resetterRequest(client: number, connection: number, i: number, random: () => number, ledger: Map<string, KeyLedger>): ResetterRequest {
  const roll = random();
  if (roll < 0.2) {
    const key = `chaos:${client}:counter`;
    entry(ledger, key).incrementsSent++;
    return { line: `INCR ${key}`, key, kind: 'INCR' };
  }
  const key = `chaos:${client}:k${Math.floor(random() * KEYS_PER_RESETTER)}`;
  if (roll < 0.4) return { line: `GET ${key}`, key, kind: 'GET' };
  const value = `${connection}-${i}-${'x'.repeat(Math.floor(random() * 2000))}`;
  const index = entry(ledger, key).sent.push(value) - 1;
  return { line: `SET ${key} ${value}`, key, kind: 'SET', index };
}

function entry(ledger: Map<string, KeyLedger>, key: string): KeyLedger {
  let found = ledger.get(key);
  if (!found) ledger.set(key, (found = new KeyLedger()));
  return found;
}

function acknowledge(request: ResetterRequest, reply: string, ledger: Map<string, KeyLedger>, report: ChaosReport): void {
  const key = entry(ledger, request.key);
  if (request.kind === 'SET') {
    if (reply === 'OK') key.lastAcknowledged = Math.max(key.lastAcknowledged, request.index!);
    else report.violations.push(`SET ${request.key} was answered ${reply}`);
  } else if (request.kind === 'INCR') {
    const match = /^VALUE (\d+)$/.exec(reply);
    if (match) key.highestIncrementReply = BigInt(match[1]) > key.highestIncrementReply ? BigInt(match[1]) : key.highestIncrementReply;
    else report.violations.push(`INCR ${request.key} was answered ${reply}`);
  } else if (reply !== 'NIL' && !reply.startsWith('VALUE ')) report.violations.push(`GET ${request.key} was answered ${reply}`);
}

async function runBystander(options: ChaosOptions, deadline: number, report: ChaosReport): Promise<void> {
  let line: LineClient | null = null;
  while (performance.now() < deadline) {
    line ??= await connectOrNull(options.port);
    if (!line) {
      report.violations.push('the bystander could not connect');
      return;
    }
    const started = performance.now();
    const reply = await line.request('PING', PING_DEADLINE_MS).catch(() => null);
    const tookMs = performance.now() - started;
    report.bystanderPings++;
    report.bystanderWorstMs = Math.max(report.bystanderWorstMs, tookMs);
    if (reply !== 'PONG') report.violations.push(`a bystander PING got ${reply === null ? `no answer within ${PING_DEADLINE_MS} ms` : reply}`);
    if (options.connectionPerRequest || reply !== 'PONG') {
      line.close();
      line = null;
    }
    await pause(25);
  }
  line?.close();
}

async function runSteadyClient(options: ChaosOptions, client: number, deadline: number, report: ChaosReport): Promise<void> {
  const random = seededRandom(options.seed * 7919 + client);
  let line: LineClient | null = null;
  for (let i = 0; i < options.steadyOperations && performance.now() < deadline; i++) {
    line ??= await connectOrNull(options.port);
    if (!line) continue;
    const roll = random();
    const command = roll < 0.4 ? 'GET' : roll < 0.7 ? 'SET' : 'INCR';
    const key = STEADY_KEYS[Math.floor(random() * STEADY_KEYS.length)];
    // SET values are unique integers, so that INCR may follow them and every read names one write.
    const value = command === 'SET' ? `${(client * 10_000 + i + 1) * 1000}` : undefined;
    const call = performance.now();
    const reply = await line.request(value === undefined ? `${command} ${key}` : `SET ${key} ${value}`, 30_000).catch(() => null);
    report.steadyHistory.push({
      client,
      command,
      key,
      ...(value === undefined ? {} : { value }),
      reply,
      call,
      return: reply === null ? Infinity : performance.now(),
    });
    if (options.connectionPerRequest || reply === null) {
      line.close();
      line = null;
    }
    await pause(random() * 20);
  }
  line?.close();
}

/** Reads every resetting client's keys back on a fresh connection and checks them against what was acknowledged. */
async function checkAcknowledgedWrites(port: number, ledgers: Map<string, KeyLedger>[], report: ChaosReport): Promise<void> {
  const line = await connectOrNull(port);
  if (!line) {
    report.violations.push('the server took no connection after the run');
    return;
  }
  try {
    if ((await line.request('PING', 5000).catch(() => null)) !== 'PONG') report.violations.push('the server did not answer PING after the run');
    for (const ledger of ledgers) {
      for (const [key, sent] of ledger) {
        const reply = await line.request(`GET ${key}`, 5000).catch(() => null);
        const problem = key.endsWith(':counter') ? counterProblem(sent, reply) : valueProblem(sent, reply);
        if (problem) report.violations.push(`${key}: ${problem}`);
      }
    }
  } finally {
    line.close();
  }
}

function valueProblem(ledger: KeyLedger, reply: string | null): string | undefined {
  if (ledger.lastAcknowledged < 0) return undefined;
  const stored = reply?.startsWith('VALUE ') ? reply.slice('VALUE '.length) : undefined;
  const allowed = ledger.sent.slice(ledger.lastAcknowledged);
  if (stored !== undefined && allowed.includes(stored)) return undefined;
  return `an acknowledged SET was lost: read ${reply?.slice(0, 40)}, expected the SET acknowledged last or one sent after it`;
}

function counterProblem(ledger: KeyLedger, reply: string | null): string | undefined {
  const match = /^VALUE (\d+)$/.exec(reply ?? '');
  const value = match ? BigInt(match[1]) : reply === 'NIL' ? 0n : undefined;
  if (value === undefined) return `the counter reads ${reply}`;
  if (value < ledger.highestIncrementReply) return `an acknowledged INCR was lost: ${value} after a reply of ${ledger.highestIncrementReply}`;
  if (value > BigInt(ledger.incrementsSent)) return `the counter is ${value}, more than the ${ledger.incrementsSent} INCRs sent`;
  return undefined;
}

async function connectOrNull(port: number): Promise<LineClient | null> {
  return LineClient.connect(port).catch(() => null);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `npm run bench -- --chaos <duration>`: the chaos run, on each model in turn, for as long as asked. */
export interface ChaosCommand {
  models: readonly string[];
  durationSec: number;
  serverScript: string;
  seed: number;
}

/**
 * Runs chaos against a fresh server of each model and prints what it found;
 * answers the exit code: 1 if any promise broke. The steady clients' history
 * is judged for linearizability by the test (servers/chaos.test.ts), whose
 * checker is test code; a long run checks every other promise.
 */
export async function runChaosCommand(command: ChaosCommand): Promise<number> {
  let broken = 0;
  for (const model of command.models) {
    const server = await startServer({ command: process.execPath, args: [command.serverScript, `--model=${model}`, '--port=0', '--workers=2'] });
    try {
      process.stdout.write(`chaos: ${model} for ${command.durationSec} s (seed ${command.seed})\n`);
      const report = await runChaos({
        ...DEFAULT_CHAOS,
        port: server.port!,
        durationMs: command.durationSec * 1000,
        steadyClients: 0,
        connectionPerRequest: model === 'blocking',
        seed: command.seed,
      });
      process.stdout.write(
        `  ${report.connections} connections, ${report.resets} resets, ${report.requestsSent} requests sent, ${report.repliesRead} replies read; ` +
          `${report.bystanderPings} bystander pings, slowest ${report.bystanderWorstMs.toFixed(0)} ms\n`,
      );
      for (const violation of report.violations) process.stdout.write(`  BROKEN: ${violation}\n`);
      if (report.violations.length === 0) process.stdout.write('  every promise held\n');
      broken += report.violations.length;
    } finally {
      await server.stop();
    }
  }
  return broken === 0 ? 0 : 1;
}
