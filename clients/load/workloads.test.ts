import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KvSpace } from './kv.js';
import { defaultLoadOptions, type LoadOptions } from './types.js';
import { WorkloadGenerator, workDigest } from './workloads.js';

const options = (overrides: Partial<LoadOptions>): LoadOptions => ({ ...defaultLoadOptions, port: 1, ...overrides });

describe('workload generator', () => {
  it('computes the WORK digest as SHA-256 of "lab" hashed again n times', () => {
    const h0 = createHash('sha256').update('lab').digest();
    const h1 = createHash('sha256').update(h0).digest();
    expect(workDigest(0)).toBe(h0.toString('hex'));
    expect(workDigest(1)).toBe(h1.toString('hex'));
  });

  it('sends ECHO payloads of exactly --size bytes that differ from one request to the next', () => {
    const generator = new WorkloadGenerator(options({ workload: 'echo', size: 32 }), undefined, 't');
    const a = generator.next();
    const b = generator.next();
    expect(a.kind === 'echo' && a.payload.length).toBe(32);
    expect(a).not.toEqual(b);
    expect(generator.isRightAnswer(a, a.kind === 'echo' ? a.payload : '')).toBe(true);
    expect(generator.isRightAnswer(a, b.kind === 'echo' ? b.payload : '')).toBe(false);
  });

  it('accepts only the right digest for WORK and OK for SLEEP', () => {
    const generator = new WorkloadGenerator(options({ workload: 'mixed', mix: { cpu: 1, sleep: 1 }, work: 5 }), undefined, 't');
    expect(generator.isRightAnswer({ kind: 'work', n: 5 }, workDigest(5))).toBe(true);
    expect(generator.isRightAnswer({ kind: 'work', n: 5 }, workDigest(4))).toBe(false);
    expect(generator.isRightAnswer({ kind: 'sleep', ms: 1 }, 'OK')).toBe(true);
  });

  it('mixes GETs and SETs by the read ratio and treats a missing key as a wrong answer', () => {
    const kv = new KvSpace(50, 16, 'run001', KvSpace.allocate(50));
    const generator = new WorkloadGenerator(options({ workload: 'kv', keys: 50, readRatio: 0.75, size: 16 }), kv, 't');
    let gets = 0;
    for (let i = 0; i < 4000; i++) if (generator.next().kind === 'get') gets++;
    expect(gets / 4000).toBeGreaterThan(0.7);
    expect(gets / 4000).toBeLessThan(0.8);
    expect(generator.isRightAnswer({ kind: 'get', key: 1 }, null)).toBe(false);
  });
});
