import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicksPerSecond, parseProcStat, procAvailable, ResourceSampler, statusKilobytes, summariseSamples, type ProcSample } from './sampler.js';

describe('parseProcStat', () => {
  it('counts fields from the last parenthesis, so a command name with spaces and parentheses cannot shift them', () => {
    const line = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 123 456 789';
    expect(parseProcStat(line)).toEqual({ utimeTicks: 250, stimeTicks: 75, threads: 11 });
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseProcStat('hello')).toThrow();
  });
});

describe('statusKilobytes', () => {
  it('reads a kB field of /proc/<pid>/status in bytes', () => {
    expect(statusKilobytes('Name:\tnode\nVmRSS:\t   2048 kB\nThreads:\t7\n', 'VmRSS')).toBe(2048 * 1024);
    expect(statusKilobytes('Name:\tnode\n', 'VmHWM')).toBeNull();
  });
});

describe('summariseSamples', () => {
  const sample = (tMs: number, cpuMs: number, rssMiB: number, threads: number): ProcSample => ({
    tMs,
    cpuMs,
    rssBytes: rssMiB * 2 ** 20,
    threads,
  });

  it('reports CPU as a percentage of one core over the measured window, ignoring the warmup before it', () => {
    const samples = [sample(0, 0, 10, 5), sample(1000, 900, 20, 5), sample(2000, 1400, 30, 7), sample(3000, 1900, 20, 6)];
    const s = summariseSamples(samples, { fromMs: 1000, toMs: 3000 }, 40 * 2 ** 20)!;
    expect(s.cpuPercent).toBeCloseTo(50);
    expect(s.peakRssBytes).toBe(30 * 2 ** 20);
    expect(s.meanRssBytes).toBeCloseTo((70 / 3) * 2 ** 20);
    expect(s.maxThreads).toBe(7);
    expect(s.lifetimePeakRssBytes).toBe(40 * 2 ** 20);
    expect(s.windowSec).toBe(2);
  });

  it('declines to summarise a window holding fewer than two samples', () => {
    expect(summariseSamples([sample(0, 0, 1, 1)], { fromMs: 0, toMs: 5000 }, null)).toBeNull();
  });
});

describe.runIf(procAvailable())('ResourceSampler', () => {
  it("sees a busy child process's CPU time, memory and threads from outside it", async () => {
    const spin = "process.stdout.write('spinning\\n'); const end = Date.now() + 2500; while (Date.now() < end) {}";
    const child = spawn(process.execPath, ['-e', spin]);
    try {
      await new Promise((resolve) => child.stdout.once('data', resolve));
      const sampler = new ResourceSampler(child.pid!, clockTicksPerSecond(), 100).start();
      await new Promise((r) => setTimeout(r, 1000));
      sampler.sampleNow();
      const end = sampler.now();
      const { samples, lifetimePeakRssBytes } = sampler.stop();
      const s = summariseSamples(samples, { fromMs: 0, toMs: end }, lifetimePeakRssBytes)!;
      // A spinning loop would show about 100 %; other tests share the two cores, so the bounds are generous.
      expect(s.cpuPercent).toBeGreaterThan(10);
      expect(s.cpuPercent).toBeLessThan(150);
      expect(s.peakRssBytes).toBeGreaterThan(1 << 20);
      expect(s.maxThreads).toBeGreaterThanOrEqual(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
