import { describe, expect, it } from 'vitest';
import { httpLoadOptionsFor, httpTimeoutSec, loadOptionsFor, serverFlags } from './cell-setup.js';
import { makeCell } from './matrix.js';
import { syntheticResults } from './test-support/synthetic-results.js';

const selection = {
  models: ['async', 'blocking'] as const,
  workloads: ['echo'] as const,
  connections: [4],
  variants: [],
  openLoopFractions: [],
  transports: ['line'] as const,
};

describe('what a cell asks of the server and the generator', () => {
  it('starts the server on a port of its own choosing on loopback, with the variant flags', () => {
    expect(serverFlags(makeCell('pool', 'cpu', 4, { kind: 'offload', offload: 'heavy' }))).toEqual([
      '--model=pool',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--offload',
      'heavy',
    ]);
  });

  it('starts an HTTP cell with only the HTTP front, on a port of its own choosing', () => {
    expect(serverFlags(makeCell('async', 'echo', 4, { kind: 'closed' }, 'http'))).toEqual([
      '--model=async',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--http-port=0',
      '--no-line',
    ]);
  });

  it("hands autocannon the cell's workload and timing, with the timeout in whole seconds of at least one", () => {
    const settings = syntheticResults({ ...selection, models: ['async'], workloads: ['echo'] }).settings;
    const options = httpLoadOptionsFor(makeCell('async', 'kv', 16, { kind: 'closed' }, 'http'), '127.0.0.1', 9, settings);
    expect(options).toMatchObject({
      tool: 'autocannon',
      url: 'http://127.0.0.1:9',
      workload: 'kv',
      connections: 16,
      durationSec: 2,
      warmupSec: 0.5,
      timeoutSec: 2,
      pipeline: 1,
    });
    expect([httpTimeoutSec(200), httpTimeoutSec(1500), httpTimeoutSec(2000)]).toEqual([1, 2, 2]);
  });

  it('drives reconnect and open-loop cells as such, and closed-loop cells without a rate', () => {
    const settings = syntheticResults({ ...selection, models: ['async'], workloads: ['echo'] }).settings;
    const reconnect = loadOptionsFor(makeCell('async', 'echo', 4, { kind: 'reconnect' }), '127.0.0.1', 9, null, settings);
    expect(reconnect).toMatchObject({ reconnect: true, connections: 4, port: 9, durationSec: 2, warmupSec: 0.5 });
    expect('rate' in reconnect).toBe(false);
    const open = loadOptionsFor(makeCell('async', 'kv', 64, { kind: 'open-loop', rateFraction: 0.5 }), '127.0.0.1', 9, 1234, settings);
    expect(open).toMatchObject({ rate: 1234, workload: 'kv', reconnect: false });
  });
});
