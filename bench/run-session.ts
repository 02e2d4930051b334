// What every run of the suite shares, whether it runs the matrix or a soak.
//
// Before the first server starts, a run checks that there is a server to
// start (the compiled one), places itself on its cores (--pin), describes the
// machine it is on and warns when that machine is already busy, and makes a
// directory of its own. While it runs, Ctrl-C (or SIGTERM) asks it to stop
// after what it is doing now and record what was done; a second signal quits
// at once. Its record is written atomically into its directory, and when it
// is over a link (`latest`, `latest-soak`) points at it. One session does all
// of that, so that the matrix and the soak cannot drift apart in any of it.

import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { busyMachineWarning, describeMachine, type MachineInfo } from './machine.js';
import { applyPlacement, type Placement } from './pin.js';
import { writeJsonRecord } from './record-file.js';
import { clockTicksPerSecond, procAvailable } from './sampler.js';

/** What any run is told on the command line, beyond what it measures. */
export interface SessionConfig {
  /** The compiled server entry point. */
  serverScript: string;
  pin: boolean;
  /** The directory that receives <run-id>/ and the latest links. */
  outDir: string;
  repoDir: string;
  argv: string[];
  flags: Record<string, unknown>;
}

export interface SessionOptions {
  /** Whether the run can do without /proc (the matrix records less) or not (a soak has nothing to watch). */
  proc: 'optional' | 'required';
  /** What an interrupted run finishes before it stops: the current run of a cell, or a soak's window. */
  finishing: string;
}

export interface RunSession {
  runId: string;
  dir: string;
  placement: Placement;
  machine: MachineInfo;
  /** Clock ticks per second, for CPU times read from /proc. */
  clkTck: number;
  /** True once a signal has asked the run to stop. */
  interrupted(): boolean;
  /** Writes `name` in the run directory as readable JSON, atomically. */
  writeRecord(name: string, record: unknown): void;
  /** Points `<outDir>/<link>` at this run; a failure is a warning, since the run itself is recorded. */
  pointLink(link: string): void;
  /** Stops listening for signals. */
  close(): void;
}

/** A run id that sorts by time and names a directory safely: 2025-01-31T14-05-09Z. */
export function makeRunId(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** Creates a fresh directory for the run, adding a suffix if one by that name exists already. */
export function createRunDir(outDir: string, runId: string): { runId: string; dir: string } {
  mkdirSync(outDir, { recursive: true });
  for (let n = 0; n < 100; n++) {
    const id = n === 0 ? runId : `${runId}-${n}`;
    const dir = path.join(outDir, id);
    try {
      mkdirSync(dir);
      return { runId: id, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`could not create a run directory under ${outDir}`);
}

/** Points `<outDir>/<link>` at the run directory with a relative link, replacing any older link. */
export function pointLatestAt(outDir: string, runId: string, link = 'latest'): void {
  const file = path.join(outDir, link);
  try {
    if (!lstatSync(file).isSymbolicLink()) {
      throw new Error(`${file} exists and is not a symbolic link; leaving it alone`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(runId, tmp);
  renameSync(tmp, file);
}

function checkPrerequisites(config: SessionConfig, options: SessionOptions, log: (line: string) => void): void {
  if (!existsSync(config.serverScript)) {
    throw new Error(`${config.serverScript} does not exist; build the project first (npm run build)`);
  }
  if (procAvailable()) return;
  if (options.proc === 'required') throw new Error('/proc is not readable here: a soak has nothing to watch memory with');
  log('/proc is not readable here: server CPU, memory and threads will not be recorded');
}

/** The first signal asks the run to finish what it is doing; the second quits at once. */
function listenForSignals(finishing: string, log: (line: string) => void): { interrupted(): boolean; close(): void } {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`interrupted: finishing ${finishing}, then recording what was done (signal again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    interrupted: () => interrupted,
    close: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Everything a run does before its first measurement; the run directory exists when this returns. */
export function openRunSession(config: SessionConfig, options: SessionOptions, log: (line: string) => void): RunSession {
  checkPrerequisites(config, options, log);
  const placement = applyPlacement(config.pin);
  if (config.pin) log(placement.applied ? `pinning: ${placement.method}` : `pinning not applied: ${placement.reason}`);
  const machine = describeMachine(config.repoDir);
  const busy = busyMachineWarning(machine);
  if (busy) log(`warning: ${busy}`);
  const { runId, dir } = createRunDir(config.outDir, makeRunId());
  log(`writing ${dir}`);
  const signals = listenForSignals(options.finishing, log);
  return {
    runId,
    dir,
    placement,
    machine,
    clkTck: clockTicksPerSecond(),
    interrupted: signals.interrupted,
    writeRecord: (name, record) => writeJsonRecord(path.join(dir, name), record),
    pointLink: (link) => {
      try {
        pointLatestAt(config.outDir, runId, link);
      } catch (err) {
        log(`warning: ${(err as Error).message}`);
      }
    },
    close: signals.close,
  };
}
