// Placing the server and the load generator on separate cores (--pin).
//
// On a small machine the server and the load generator compete for the same
// cores, and the scheduler's choices become part of the measurement. Pinning
// gives each its own core so that a model's throughput is bounded by the model,
// not by which process the kernel favoured. The server goes on core 0 and this
// process (and so the load generator's threads) on core 1.
//
// The suite pins itself with `taskset -a -p`, which moves every thread it
// already has; threads and processes started later inherit that placement.
// Each server is started through `taskset -c 0`, which execs the server in
// place, so the pid the suite watches is the server's own.
//
// When pinning is asked for but impossible (no taskset, fewer than two cores)
// the suite says so and runs unpinned: a comparison unpinned is still a
// comparison, as long as the results record which one it was.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allowedCpus } from './sampler.js';

export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

export interface Placement {
  requested: boolean;
  applied: boolean;
  /** Why pinning was not applied, when it was requested. */
  reason?: string;
  method: string;
  /** The CPUs the server is meant to run on (observed per run in each repeat's record). */
  serverCpus: string | null;
  /** The CPUs this process, and so the load generator, may run on, read back from the kernel. */
  generatorCpus: string | null;
}

/** The full path of an executable on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Prefixes a command with `taskset -c <core>` when pinning is in effect. */
export function pinnedCommand(placement: Placement, command: string, args: string[], core = SERVER_CORE): { command: string; args: string[] } {
  if (!placement.applied) return { command, args };
  return { command: 'taskset', args: ['-c', String(core), command, ...args] };
}

/**
 * Applies the requested placement to this process and reports what happened.
 * Never throws: a placement that cannot be applied is recorded with its reason.
 */
export function applyPlacement(requested: boolean): Placement {
  const unpinned = (reason?: string): Placement => ({
    requested,
    applied: false,
    ...(reason ? { reason } : {}),
    method: 'none',
    serverCpus: null,
    generatorCpus: allowedCpus('self'),
  });
  if (!requested) return unpinned();
  if (os.cpus().length < 2) return unpinned(`only ${os.cpus().length} core available; need 2 to separate server and generator`);
  if (!findOnPath('taskset')) {
    return unpinned('taskset not found on PATH (it is part of util-linux); running unpinned');
  }
  const out = spawnSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CORE), String(process.pid)], {
    encoding: 'utf8',
  });
  if (out.status !== 0) {
    return unpinned(`taskset could not pin this process: ${(out.stderr || out.error?.message || '').trim()}`);
  }
  return {
    requested,
    applied: true,
    method: `taskset: server on core ${SERVER_CORE} (taskset -c ${SERVER_CORE}), load generator on core ${GENERATOR_CORE} (taskset -a -p -c ${GENERATOR_CORE})`,
    serverCpus: String(SERVER_CORE),
    generatorCpus: allowedCpus('self'),
  };
}
