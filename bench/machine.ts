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
  loadAverageAtStart: number[];
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
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
