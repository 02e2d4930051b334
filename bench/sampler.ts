// Watching the server from outside: CPU time, resident memory and threads.
//
// The kernel already keeps these numbers for every process, in /proc/<pid>/stat
// and /proc/<pid>/status, so the suite reads them instead of asking the server
// to report on itself (a server under load is the last thing that should be
// trusted to describe its own load). Reading them every quarter second costs a
// few microseconds per read, far below what it measures.
//
// Simplification: this is Linux-only. Elsewhere the sampler reports that it
// has nothing, and the results say so rather than showing zeros.

import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface ProcSample {
  /** Milliseconds since the sampler started. */
  tMs: number;
  /** User plus system CPU time the process has used so far. */
  cpuMs: number;
  rssBytes: number;
  threads: number;
}

export interface ResourceSummary {
  /** CPU used over the measured window, as a percentage of one core (200 = two cores busy). */
  cpuPercent: number;
  peakRssBytes: number;
  meanRssBytes: number;
  maxThreads: number;
  /** The kernel's own high-water mark of resident memory over the process's whole life. */
  lifetimePeakRssBytes: number | null;
  windowSec: number;
  samplesInWindow: number;
}

/** Clock ticks per second for /proc CPU times (almost always 100). */
export function clockTicksPerSecond(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/**
 * The CPU ticks and thread count from a /proc/<pid>/stat line. The command
 * name in parentheses may itself contain spaces and parentheses, so fields are
 * counted from the last closing parenthesis.
 */
export function parseProcStat(text: string): { utimeTicks: number; stimeTicks: number; threads: number } {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After the name, field 3 (state) is at index 0, so field n is at index n - 3.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  const parsed = { utimeTicks: field(14), stimeTicks: field(15), threads: field(20) };
  if (!Object.values(parsed).every(Number.isFinite)) throw new Error('malformed /proc/<pid>/stat line');
  return parsed;
}

/** A `Name: <n> kB` field of /proc/<pid>/status, in bytes; null when absent. */
export function statusKilobytes(status: string, name: string): number | null {
  const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** A plain text field of /proc/<pid>/status, such as Cpus_allowed_list. */
export function statusField(status: string, name: string): string | null {
  const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status);
  return m ? m[1].trim() : null;
}

/** The CPUs a process may run on, as the kernel lists them (`0-1`, `0`); null off Linux. */
export function allowedCpus(pid: number | 'self'): string | null {
  try {
    return statusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'Cpus_allowed_list');
  } catch {
    return null;
  }
}

export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** Samples one process on a fixed interval until stopped. */
export class ResourceSampler {
  private readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private lifetimePeak: number | null = null;

  constructor(
    private readonly pid: number,
    private readonly clkTck: number,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
    return this;
  }

  /** Milliseconds since the sampler started, on the same clock as the samples. */
  now(): number {
    return performance.now() - this.started;
  }

  /** Takes one sample immediately (for example right at the end of the measured window). */
  sampleNow(): void {
    try {
      const stat = parseProcStat(readFileSync(`/proc/${this.pid}/stat`, 'utf8'));
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      this.lifetimePeak = statusKilobytes(status, 'VmHWM') ?? this.lifetimePeak;
      this.samples.push({
        tMs: Math.round(this.now() * 10) / 10,
        cpuMs: ((stat.utimeTicks + stat.stimeTicks) * 1000) / this.clkTck,
        rssBytes: statusKilobytes(status, 'VmRSS') ?? 0,
        threads: stat.threads,
      });
    } catch {
      // The process has gone (or /proc is absent); what was sampled stays.
    }
  }

  stop(): { samples: ProcSample[]; lifetimePeakRssBytes: number | null } {
    clearInterval(this.timer);
    return { samples: [...this.samples], lifetimePeakRssBytes: this.lifetimePeak };
  }
}

/**
 * Summarises the samples that fall inside the measured window. CPU is the
 * CPU time used between the first and last sample of the window divided by
 * the wall time between them; memory and threads are taken from the same
 * samples. Returns null when the window holds fewer than two samples.
 */
export function summariseSamples(
  samples: readonly ProcSample[],
  window: { fromMs: number; toMs: number },
  lifetimePeakRssBytes: number | null,
): ResourceSummary | null {
  // A sample a little before the window opens still marks its start fairly.
  const slackMs = 300;
  const inside = samples.filter((s) => s.tMs >= window.fromMs - slackMs && s.tMs <= window.toMs + slackMs);
  if (inside.length < 2) return null;
  const first = inside[0];
  const last = inside[inside.length - 1];
  const wallMs = last.tMs - first.tMs;
  if (wallMs <= 0) return null;
  const rss = inside.map((s) => s.rssBytes);
  return {
    cpuPercent: ((last.cpuMs - first.cpuMs) / wallMs) * 100,
    peakRssBytes: Math.max(...rss),
    meanRssBytes: rss.reduce((a, b) => a + b, 0) / rss.length,
    maxThreads: Math.max(...inside.map((s) => s.threads)),
    lifetimePeakRssBytes,
    windowSec: wallMs / 1000,
    samplesInWindow: inside.length,
  };
}
