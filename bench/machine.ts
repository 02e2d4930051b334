// A description of the machine a run was measured on.
//
// Numbers from a benchmark mean nothing without the machine beside them: the
// same model is fast on sixteen cores and slow on two. The results carry the
// hardware, the software and the exact code (commit, and whether the working
// tree had uncommitted changes), so that a reader can tell whether two result
// files are comparable at all.

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
  };
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
