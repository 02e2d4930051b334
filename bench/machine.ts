// A description of the machine a run was measured on.
//
// Numbers from a benchmark mean nothing without the machine beside them: the
// same model is fast on sixteen cores and slow on two. The results carry the
// hardware, the software and the exact code (commit, and whether the working
// tree had uncommitted changes), so that a reader can tell whether two result
// files are comparable at all.
//
// On a virtual machine the cores are shared with other guests, and the
// hypervisor's "steal" time (from /proc/stat) is time this guest wanted a core
// and did not get one. A run records the share stolen while it ran: on a
// shared two-core VM it is part of the explanation for noise.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  os: { platform: string; name: string | null; kernel: string; arch: string };
  git: { commit: string | null; dirty: boolean | null };
  /** 1, 5 and 15 minute load averages: anything well above zero means something else was using the cores. */
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[] | null;
  /** All cores' CPU time in clock ticks at the start (/proc/stat): the whole, and the part stolen by the hypervisor. */
  cpuTicksAtStart?: CpuTicks | null;
  /** Percent of all CPU time stolen by the hypervisor while the run ran; null where /proc/stat is missing. */
  stealPercent?: number | null;
}

export interface CpuTicks {
  total: number;
  steal: number;
}

function git(args: string[], cwd: string): string | null {
  const out = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return out.status === 0 ? out.stdout.trim() : null;
}

/** The distribution's own name for itself, from /etc/os-release. */
function osName(): string | null {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

export function describeMachine(repoDir: string): MachineInfo {
  const cpus = os.cpus();
  const commit = git(['rev-parse', 'HEAD'], repoDir);
  const status = commit === null ? null : git(['status', '--porcelain'], repoDir);
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    os: { platform: process.platform, name: osName(), kernel: os.release(), arch: process.arch },
    git: { commit, dirty: status === null ? null : status.length > 0 },
    loadAverageAtStart: loadAverage(),
    loadAverageAtEnd: null,
    cpuTicksAtStart: cpuTicks(),
    stealPercent: null,
  };
}

/** The machine's CPU time so far, from the first line of /proc/stat; null where there is none. */
export function cpuTicks(stat = readProcStat()): CpuTicks | null {
  const fields = /^cpu\s+(.*)$/m
    .exec(stat ?? '')?.[1]
    .trim()
    .split(/\s+/)
    .map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice, already inside user and nice]
  if (!fields || fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null;
  return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] };
}

/** The share of CPU time stolen between two readings, in percent (one decimal). */
export function stealPercentBetween(start: CpuTicks | null, end: CpuTicks | null): number | null {
  if (!start || !end || end.total <= start.total) return null;
  return Math.round(((end.steal - start.steal) / (end.total - start.total)) * 1000) / 10;
}

/** Records at the end of a run what the machine did meanwhile: the load average and the stolen time. */
export function finishMachineRecord(machine: MachineInfo): void {
  machine.loadAverageAtEnd = loadAverage();
  machine.stealPercent = stealPercentBetween(machine.cpuTicksAtStart ?? null, cpuTicks());
}

function readProcStat(): string | null {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
}

export function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/**
 * A warning when other work is already keeping the cores busy: a benchmark on
 * a busy machine measures the neighbours as much as the servers.
 */
export function busyMachineWarning(machine: MachineInfo): string | null {
  const [oneMinute] = machine.loadAverageAtStart;
  if (oneMinute === undefined || oneMinute < 0.5 * machine.cores) return null;
  return `the machine is already busy (load average ${oneMinute} on ${machine.cores} cores): figures will be disturbed by the other work`;
}
