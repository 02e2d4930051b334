// Checking a run's options before any traffic is sent.
//
// A load generator given nonsense should say so plainly instead of measuring
// something other than what was asked. Every limit here is either a protocol
// limit (WORK n up to 10,000,000) or a bound that keeps a run finite and the
// machine usable.
import { ARRIVALS } from './arrivals.js';
import { OPEN_LOOP_MODES, type LoadOptions, type SimpleWorkload, type Workload } from './types.js';

export class LoadOptionsError extends Error {}

const WORKLOADS: readonly Workload[] = ['echo', 'kv', 'cpu', 'sleep', 'mixed'];
const SIMPLE_WORKLOADS: readonly SimpleWorkload[] = ['echo', 'kv', 'cpu', 'sleep'];
/** The workloads whose commands Redis has. */
const REDIS_WORKLOADS: readonly SimpleWorkload[] = ['echo', 'kv'];

function fail(message: string): never {
  throw new LoadOptionsError(message);
}

function requireInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
}

function requireNumber(name: string, value: unknown, min: number, max: number, minExclusive = false): void {
  const tooSmall = typeof value === 'number' && (minExclusive ? value <= min : value < min);
  if (typeof value !== 'number' || !Number.isFinite(value) || tooSmall || value > max) {
    fail(`${name} must be a number ${minExclusive ? 'above' : 'from'} ${min}${max < Infinity ? ` up to ${max}` : ''}, got ${String(value)}`);
  }
}

/** Parse `echo=5,kv=3,cpu=1` into weights. */
export function parseMix(text: string): Partial<Record<SimpleWorkload, number>> {
  const mix: Partial<Record<SimpleWorkload, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^([a-z]+)\s*=\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!match) fail(`--mix: expected NAME=WEIGHT pairs like "echo=5,kv=3,cpu=1", got "${part}"`);
    const [, name, weight] = match;
    if (!SIMPLE_WORKLOADS.includes(name as SimpleWorkload)) {
      fail(`--mix: unknown workload "${name}" (choose from ${SIMPLE_WORKLOADS.join(', ')})`);
    }
    mix[name as SimpleWorkload] = Number(weight);
  }
  return mix;
}

/** Check `options`, returning a normalised copy; throws LoadOptionsError with a readable message. */
export function validateOptions(options: LoadOptions): LoadOptions {
  const o: LoadOptions = { ...options };
  if (typeof o.host !== 'string' || o.host === '') fail('host must be a host name or address');
  requireInteger('port', o.port, 1, 65535);
  if (!WORKLOADS.includes(o.workload)) fail(`workload must be one of ${WORKLOADS.join(', ')}, got ${String(o.workload)}`);
  requireInteger('connections', o.connections, 1, 20_000);
  if (o.durationSec === undefined && o.requests === undefined) fail('give a duration or a number of requests');
  if (o.durationSec !== undefined) requireNumber('duration', o.durationSec, 0, 86_400, true);
  if (o.requests !== undefined) requireInteger('requests', o.requests, 1, 1_000_000_000);
  requireNumber('warmup', o.warmupSec, 0, 3600);
  requireInteger('pipeline', o.pipeline, 1, 10_000);
  if (o.rate !== undefined) {
    requireNumber('rate', o.rate, 0, 10_000_000, true);
    o.arrivals ??= 'poisson';
    o.openLoopMode ??= 'idle';
    if (!ARRIVALS.includes(o.arrivals)) fail(`arrivals must be one of ${ARRIVALS.join(', ')}, got ${String(o.arrivals)}`);
    if (!OPEN_LOOP_MODES.includes(o.openLoopMode)) fail(`open-loop mode must be one of ${OPEN_LOOP_MODES.join(', ')}, got ${String(o.openLoopMode)}`);
  } else if (o.arrivals !== undefined || o.openLoopMode !== undefined) {
    fail('arrivals and the open-loop mode need a rate (open loop)');
  }
  if (typeof o.reconnect !== 'boolean') fail('reconnect must be true or false');
  requireInteger('size', o.size, 0, 16 * 1024 * 1024);
  requireNumber('read ratio', o.readRatio, 0, 1);
  requireInteger('keys', o.keys, 1, 10_000_000);
  if (o.keyDistribution !== 'uniform' && o.keyDistribution !== 'zipfian') {
    fail(`key distribution must be uniform or zipfian, got ${String(o.keyDistribution)}`);
  }
  requireInteger('work', o.work, 0, 10_000_000);
  requireInteger('sleep', o.sleepMs, 0, 600_000);
  requireInteger('threads', o.threads, 1, 64);
  if (o.dialect !== 'lab' && o.dialect !== 'redis') fail(`dialect must be lab or redis, got ${String(o.dialect)}`);
  requireNumber('timeout', o.timeoutMs, 0, 3_600_000, true);

  if (o.workload === 'mixed') {
    const weights = Object.entries(o.mix ?? {});
    for (const [name, weight] of weights) {
      if (!SIMPLE_WORKLOADS.includes(name as SimpleWorkload)) fail(`mix: unknown workload "${name}"`);
      requireNumber(`mix weight of ${name}`, weight, 0, 1_000_000);
    }
    if (!weights.some(([, weight]) => (weight ?? 0) > 0)) {
      fail('the mixed workload needs weights, e.g. --mix echo=5,kv=3,cpu=1');
    }
  }
  if (o.dialect === 'redis') {
    const used =
      o.workload === 'mixed'
        ? (Object.entries(o.mix ?? {})
            .filter(([, w]) => (w ?? 0) > 0)
            .map(([name]) => name) as SimpleWorkload[])
        : [o.workload];
    const unsupported = used.filter((w) => !REDIS_WORKLOADS.includes(w));
    if (unsupported.length > 0) {
      fail(`the redis dialect supports the echo and kv workloads only (Redis has no WORK or SLEEP), not ${unsupported.join(', ')}`);
    }
    if (used.includes('echo') && o.size < 1) fail('the redis dialect needs --size of at least 1 for echo (Redis rejects ECHO without an argument)');
  }
  // More threads than connections would leave threads with nothing to do.
  o.threads = Math.min(o.threads, o.connections);
  return o;
}
