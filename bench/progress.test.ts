import { describe, expect, it } from 'vitest';
import { makeCell } from './matrix.js';
import { formatDuration, Progress } from './progress.js';

function captureStream(isTTY: boolean) {
  const written: string[] = [];
  const stream = { isTTY, columns: 120, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('formatDuration', () => {
  it('writes minutes and zero-padded seconds, or seconds alone under a minute', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(1339)).toBe('22m19s');
  });
});

describe('Progress', () => {
  it('writes one plain line per run, without carriage returns, when stderr is not a terminal', () => {
    const { stream, written } = captureStream(false);
    const progress = new Progress({ totalCells: 2, totalRuns: 2, estimatedSec: 10, stream });
    progress.repeatStarted(makeCell('async', 'echo', 4, { kind: 'closed' }), 0, 1);
    progress.repeatFinished('ok: 100 req/s');
    progress.cellFinished(1);
    progress.finish();
    expect(written.join('')).toMatch(/^\[1\/2\] async\/echo\/c4 \(repeat 1\/1\) \.\.\. ~\d+s left\n {4}ok: 100 req\/s\n$/);
    expect(written.join('')).not.toContain('\r');
  });

  it('redraws a bar in place with the cell running, cells done and time left on a terminal', () => {
    const { stream, written } = captureStream(true);
    const progress = new Progress({ totalCells: 4, totalRuns: 4, estimatedSec: 100, stream });
    progress.repeatStarted(makeCell('pool', 'kv', 64, { kind: 'closed' }), 0, 1);
    progress.repeatFinished('ok');
    progress.cellFinished(1);
    progress.finish();
    const last = written.filter((s) => s.includes('cells')).at(-1)!;
    // The progress line starts with a carriage return and the ANSI erase-line code: control characters on purpose.
    // eslint-disable-next-line no-control-regex
    expect(last).toMatch(/^\r\x1b\[2K\[######-+\] 1\/4 cells, ~\d+s left {2}pool\/kv\/c64 \(repeat 1\/1\)$/);
  });
});
