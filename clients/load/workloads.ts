// What to ask for next, and whether the answer was right.
//
// Each workload is a stream of operations: `echo` sends a payload of `size`
// bytes, `kv` mixes GETs and SETs over a keyspace, `cpu` asks for `WORK n`,
// `sleep` for `SLEEP ms`, and `mixed` draws each request from the others by
// weight. The generator also knows the right answer to each operation, so
// every reply that can be checked is: the echo of the payload, the digest of
// WORK (computed once, here, with node:crypto), a value this run stored for
// GET, OK for SET and SLEEP, PONG for PING.
import { createHash } from 'node:crypto';
import type { LoadOptions, SimpleWorkload } from './types.js';
import type { Op } from './ops.js';
import { KvSpace } from './kv.js';
import { ZipfSampler } from './zipf.js';

/** The WORK digest: h0 = SHA-256("lab"), h(i+1) = SHA-256(h(i) as raw bytes); h(n) in hex. */
export function workDigest(n: number): string {
  let digest = createHash('sha256').update('lab').digest();
  for (let i = 0; i < n; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

/** The workloads actually drawn from, with their weights. */
export function weightsOf(options: Pick<LoadOptions, 'workload' | 'mix'>): [SimpleWorkload, number][] {
  if (options.workload !== 'mixed') return [[options.workload, 1]];
  return Object.entries(options.mix ?? {}).filter(([, weight]) => (weight ?? 0) > 0) as [SimpleWorkload, number][];
}

export function usesKeyspace(options: Pick<LoadOptions, 'workload' | 'mix'>): boolean {
  return weightsOf(options).some(([workload]) => workload === 'kv');
}

export class WorkloadGenerator {
  private readonly choices: SimpleWorkload[] = [];
  private readonly cumulativeWeights: number[] = [];
  private readonly echoFiller: string;
  private readonly expectedDigest: string | undefined;
  private readonly zipf: ZipfSampler | undefined;
  private echoCount = 0;

  constructor(
    private readonly options: LoadOptions,
    private readonly kv: KvSpace | undefined,
    /** Makes echo payloads differ between threads, so a crossed reply shows. */
    private readonly echoTag: string,
  ) {
    let total = 0;
    for (const [workload, weight] of weightsOf(options)) {
      total += weight;
      this.choices.push(workload);
      this.cumulativeWeights.push(total);
    }
    this.echoFiller = 'x'.repeat(options.size);
    this.expectedDigest = this.choices.includes('cpu') ? workDigest(options.work) : undefined;
    this.zipf = this.kv && options.keyDistribution === 'zipfian' ? new ZipfSampler(options.keys) : undefined;
  }

  next(): Op {
    switch (this.pickWorkload()) {
      case 'echo':
        return { kind: 'echo', payload: this.nextEchoPayload() };
      case 'kv':
        return this.nextKvOp();
      case 'cpu':
        return { kind: 'work', n: this.options.work };
      case 'sleep':
        return { kind: 'sleep', ms: this.options.sleepMs };
    }
  }

  /** Whether `value` (already decoded from the wire, `null` for a missing key) is the right answer to `op`. */
  isRightAnswer(op: Op, value: string | null): boolean {
    switch (op.kind) {
      case 'ping':
        return value === 'PONG';
      case 'echo':
        return value === op.payload;
      case 'set':
      case 'sleep':
        return value === 'OK';
      case 'work':
        return value === this.expectedDigest;
      // The keyspace was filled before measuring, so a missing key is wrong too.
      case 'get':
        return value !== null && this.kv !== undefined && this.kv.isValueWrittenFor(op.key, value);
    }
  }

  private pickWorkload(): SimpleWorkload {
    if (this.choices.length === 1) return this.choices[0];
    const target = Math.random() * this.cumulativeWeights[this.cumulativeWeights.length - 1];
    const index = this.cumulativeWeights.findIndex((limit) => target < limit);
    return this.choices[index === -1 ? this.choices.length - 1 : index];
  }

  /** Exactly `size` bytes; the unique prefix makes a reply to the wrong request visible. */
  private nextEchoPayload(): string {
    const prefix = `e${this.echoTag}${(this.echoCount++).toString(36)}.`;
    return prefix.length >= this.echoFiller.length ? prefix.slice(0, this.echoFiller.length) : prefix + this.echoFiller.slice(prefix.length);
  }

  private nextKvOp(): Op {
    const kv = this.kv!;
    const key = this.zipf ? this.zipf.next() : Math.floor(Math.random() * this.options.keys);
    if (Math.random() < this.options.readRatio) return { kind: 'get', key };
    return { kind: 'set', key, value: kv.nextValue(key) };
  }
}
