// Watching the server from inside: its own STATS reply, twice a second.
//
// /proc (sampler.ts) says what the kernel sees: CPU time, memory, threads. It
// cannot say how busy the server's event loop is, how deep the pool's queue
// grew or how many workers were alive; only the server knows that, and STATS
// is how it tells. So while the load runs, the suite keeps one connection of
// its own open to the server and asks `STATS` every 500 ms, one request at a
// time, and keeps each reply whole (the fields differ by model).
//
// The sampling connection is not free, and where it changes what is measured
// that is said rather than hidden:
// - On the per-connection model it is a connection like any other, so it
//   starts one extra worker thread, held for the whole run: the server's
//   thread count and memory include it, and STATS counts it among the open
//   connections and the workers.
// - STATS itself is counted as a request: two a second, next to thousands.
// - The blocking model serves one connection at a time, so a sampling
//   connection would either wait its turn behind the load or, once served,
//   hold the server for itself. For that model the suite asks once, after the
//   load has finished and closed its connections (see `takeStats`).
//
// A sampler that fails never fails the measurement: it reports what went
// wrong, and the cell records that as a note.

import { performance } from 'node:perf_hooks';
import { LineClient } from '../clients/line-client.js';

/** One STATS reply, and when it arrived (on the clock the sampler was given). */
export interface StatsSample {
  tMs: number;
  stats: Record<string, unknown>;
}

export interface StatsSamplerOptions {
  host: string;
  port: number;
  intervalMs?: number;
  /** Milliseconds on the caller's clock; the suite passes the resource sampler's, so both kinds of sample line up. */
  clock?: () => number;
  connectTimeoutMs?: number;
}

export const STATS_INTERVAL_MS = 500;

/** One STATS reply line as an object, or an error that says what came back instead. */
export function parseStatsLine(line: string): Record<string, unknown> {
  if (line.startsWith('ERR')) throw new Error(`STATS was answered with ${JSON.stringify(line)}`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`STATS reply is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`STATS reply is not a JSON object: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return value as Record<string, unknown>;
}

function connectWithin(host: string, port: number, timeoutMs: number): Promise<LineClient> {
  return LineClient.connect(port, host, { timeoutMs }).catch((err: Error) => {
    throw new Error(`could not connect to ${host}:${port}: ${err.message}`);
  });
}

/** Why a STATS connection ended before the sampler closed it. */
function endedBecause(client: LineClient): string {
  return client.error ? `the STATS connection failed: ${client.error.message}` : 'the server closed the STATS connection';
}

/**
 * Asks STATS every `intervalMs` over one connection. A request is only sent
 * when the previous one has been answered: a server too busy to answer in
 * time is not sent a growing pile of STATS, and the late ticks are counted.
 */
export class StatsSampler {
  private readonly samples: StatsSample[] = [];
  private readonly problems = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private client: LineClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private awaiting = false;
  private skippedTicks = 0;
  private closedEarly: string | undefined;
  private stopped = false;
  private firstReply: (() => void) | undefined;

  constructor(private readonly options: StatsSamplerOptions) {
    this.intervalMs = options.intervalMs ?? STATS_INTERVAL_MS;
    const origin = performance.now();
    this.clock = options.clock ?? (() => performance.now() - origin);
  }

  /**
   * Connects and waits for the first reply (or the connect timeout, whichever
   * comes first), so that whatever the server does for a new connection (the
   * per-connection model starts a worker thread) is done before the caller
   * starts its load. Rejects only if the connection cannot be made.
   */
  async start(): Promise<this> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 2000;
    const client = await connectWithin(host, port, timeoutMs);
    this.client = client;
    void client.closed.then(() => this.onClosed(endedBecause(client)));
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<void>((resolve) => {
      this.firstReply = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    await answered;
    clearTimeout(timer);
    this.firstReply = undefined;
    return this;
  }

  private tick(): void {
    if (this.stopped || this.closedEarly || !this.client) return;
    if (this.awaiting) {
      this.skippedTicks++;
      return;
    }
    this.awaiting = true;
    void this.client.request('STATS', Infinity).then((line) => {
      if (line !== null) this.onReply(line);
    });
  }

  private onReply(line: string): void {
    this.awaiting = false;
    this.firstReply?.();
    try {
      this.samples.push({ tMs: Math.round(this.clock() * 10) / 10, stats: parseStatsLine(line) });
    } catch (err) {
      const what = (err as Error).message;
      this.problems.set(what, (this.problems.get(what) ?? 0) + 1);
    }
  }

  private onClosed(reason: string): void {
    if (this.stopped || this.closedEarly) return;
    this.closedEarly = reason;
    clearInterval(this.timer);
    this.firstReply?.();
  }

  /** Stops asking, closes the connection, and returns the samples and what went wrong, in words. */
  stop(): { samples: StatsSample[]; problems: string[] } {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      this.client?.close();
    }
    const problems = [...this.problems].map(([what, n]) => (n > 1 ? `${what} (${n} times)` : what));
    if (this.closedEarly) problems.push(`${this.closedEarly} after ${this.samples.length} samples`);
    if (this.skippedTicks > 0) {
      problems.push(`a STATS reply took longer than ${this.intervalMs} ms ${this.skippedTicks} times; no second request was sent meanwhile`);
    }
    return { samples: [...this.samples], problems };
  }
}

/**
 * One STATS over a fresh connection, closed straight after. For the blocking
 * model, which serves connections in turn: asked once the load's connections
 * are closed, it is answered as soon as the server has let those go.
 */
export async function takeStats(host: string, port: number, timeoutMs = 1500): Promise<Record<string, unknown>> {
  const began = performance.now();
  const client = await connectWithin(host, port, timeoutMs);
  try {
    const left = Math.max(1, timeoutMs - (performance.now() - began));
    const line = await client.request('STATS', left).catch(() => {
      throw new Error(`no reply to STATS within ${timeoutMs} ms`);
    });
    if (line === null) throw new Error(client.error ? endedBecause(client) : 'the server closed the connection before answering STATS');
    return parseStatsLine(line);
  } finally {
    client.close();
  }
}
