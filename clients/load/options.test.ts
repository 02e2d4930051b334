import { describe, expect, it } from 'vitest';
import { LoadOptionsError, parseMix, validateOptions } from './options.js';
import { defaultLoadOptions, type LoadOptions } from './types.js';

const valid: LoadOptions = { ...defaultLoadOptions, port: 7070 };

describe('load options', () => {
  it('parses --mix weights like "echo=5,kv=3,cpu=1"', () => {
    expect(parseMix('echo=5, kv=3,cpu=0.5')).toEqual({ echo: 5, kv: 3, cpu: 0.5 });
  });

  it('rejects a malformed or unknown --mix entry with a message naming it', () => {
    expect(() => parseMix('echo=')).toThrow(/echo=/);
    expect(() => parseMix('disk=1')).toThrow(/unknown workload "disk"/);
  });

  it('rejects out-of-range numbers with a clear message', () => {
    expect(() => validateOptions({ ...valid, connections: 0 })).toThrow(LoadOptionsError);
    expect(() => validateOptions({ ...valid, pipeline: 1.5 })).toThrow(/pipeline/);
    expect(() => validateOptions({ ...valid, readRatio: 2 })).toThrow(/read ratio/);
    expect(() => validateOptions({ ...valid, rate: 0 })).toThrow(/rate/);
    expect(() => validateOptions({ ...valid, port: 0 })).toThrow(/port/);
    expect(() => validateOptions({ ...valid, durationSec: undefined, requests: undefined })).toThrow(/duration or a number of requests/);
  });

  it('needs weights for the mixed workload', () => {
    expect(() => validateOptions({ ...valid, workload: 'mixed' })).toThrow(/--mix/);
    expect(validateOptions({ ...valid, workload: 'mixed', mix: { echo: 1 } }).mix).toEqual({ echo: 1 });
  });

  it('allows only echo and kv in the redis dialect, which has no WORK or SLEEP', () => {
    expect(() => validateOptions({ ...valid, dialect: 'redis', workload: 'cpu' })).toThrow(/echo and kv/);
    expect(() => validateOptions({ ...valid, dialect: 'redis', workload: 'mixed', mix: { echo: 1, sleep: 1 } })).toThrow(/sleep/);
    expect(validateOptions({ ...valid, dialect: 'redis', workload: 'kv' }).dialect).toBe('redis');
  });

  it('uses no more threads than there are connections', () => {
    expect(validateOptions({ ...valid, connections: 2, threads: 8 }).threads).toBe(2);
  });
});
