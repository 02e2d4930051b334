// `npm run bench`: run the comparison suite from the command line.
//
// The defaults are the full matrix, sized to finish in about half an hour on a
// two-core machine; --quick is the two-minute version for checking that
// everything works, and the selection flags narrow either one down. --soak is
// a different experiment: no matrix, just constant load for a long time,
// watching for memory that keeps growing (see soak.ts). --chaos is another:
// clients that reset at random moments, and the promises that must survive
// them (see chaos.ts).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  BENCH_WORKLOADS,
  FULL_SELECTION,
  MODELS,
  QUICK_SELECTION,
  TRANSPORTS,
  VARIANTS,
  type BenchWorkload,
  type MatrixSelection,
  type Model,
  type Transport,
  type VariantName,
} from './matrix.js';
import { runChaosCommand, type ChaosCommand } from './chaos.js';
import type { SessionConfig } from './run-session.js';
import { parseSoakDuration, runSoak, SOAK_CONNECTIONS, type SoakConfig } from './soak.js';
import { defaultCalibrationConnections, runSuite, type SuiteConfig } from './suite.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench/ -> the repository root, where results/ and .git live. */
const repoDir = path.resolve(here, '..', '..');

// The HTTP axis runs each cell once by default: with three repeats its 80
// cells would add about 13 minutes to the full matrix, past the half hour it
// is meant to fit on two cores. One run at every connection count keeps the
// whole comparison; its spread is the price, and the results say so.
const FULL_TIMING = { durationSec: 2, warmupSec: 0.5, repeat: 3, httpRepeat: 1 };
const QUICK_TIMING = { durationSec: 1, warmupSec: 0.25, repeat: 1, httpRepeat: 1 };

class UsageError extends Error {}

/** A comma-separated list (or a repeated flag), each item checked against the allowed values. */
function listOf<T extends string>(raw: unknown, allowed: readonly T[], what: string): T[] {
  const items = ([] as unknown[])
    .concat(raw)
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value (choose from ${allowed.join(', ')})`);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`unknown ${what.replace(/s$/, '')} '${item}' (choose from ${allowed.join(', ')})`);
  }
  return [...new Set(items as T[])];
}

function connectionList(raw: unknown): number[] {
  const items = ([] as unknown[])
    .concat(raw)
    .flatMap((v) => String(v).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError('--connections needs at least one count');
  const counts = items.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`--connections: '${s}' is not a whole number from 1 to 10000`);
    return n;
  });
  return [...new Set(counts)].sort((a, b) => a - b);
}

function positive(value: unknown, flag: string, { min = 0, max = Infinity, integer = false, allowZero = false } = {}): number {
  const n = Number(value);
  const ok = Number.isFinite(n) && (allowZero ? n >= min : n > min) && n <= max && (!integer || Number.isInteger(n));
  if (!ok) {
    throw new UsageError(
      `--${flag}: '${value}' must be ${integer ? 'a whole number' : 'a number'} ${allowZero ? `>= ${min}` : `> ${min}`}${max < Infinity ? ` and <= ${max}` : ''}`,
    );
  }
  return n;
}

/** What the command line asks for: the comparison matrix, or a soak instead. */
export type BenchCommand = { kind: 'matrix'; config: SuiteConfig } | { kind: 'soak'; config: SoakConfig } | { kind: 'chaos'; config: ChaosCommand };

export function parseArgs(argv: string[]): BenchCommand {
  const args = yargs(argv)
    .scriptName('npm run bench --')
    .usage('$0 [options]\n\nStart each server model fresh, drive it with the load generator, and record and chart the results.')
    .option('models', { type: 'string', describe: `comma-separated models (${MODELS.join(', ')})` })
    .option('workloads', { type: 'string', describe: `comma-separated workloads (${BENCH_WORKLOADS.join(', ')})` })
    .option('connections', { type: 'string', describe: 'comma-separated connection counts' })
    .option('variants', { type: 'string', describe: `extra experiments: ${VARIANTS.join(', ')}, or none` })
    .option('transports', { type: 'string', describe: `comma-separated transports (${TRANSPORTS.join(', ')}; default both)` })
    .option('http-repeat', {
      type: 'number',
      describe: `runs per HTTP cell (default ${FULL_TIMING.httpRepeat}, to keep the full matrix near 30 minutes)`,
    })
    .option('chaos', {
      type: 'string',
      describe: 'instead of the matrix: clients that reset at random moments on each model for this long (30s, 10m), failing if a promise breaks',
    })
    .option('seed', { type: 'number', describe: 'with --chaos: the seed of its random choices (default: from the clock, printed)' })
    .option('soak', {
      type: 'string',
      describe: `instead of the matrix: constant load on each model for this long (30s, 10m, 1h), failing if memory keeps growing; ${SOAK_CONNECTIONS} connections, or the most given with --connections`,
    })
    .option('duration', {
      type: 'number',
      describe: `measured seconds per run (default ${FULL_TIMING.durationSec}, quick ${QUICK_TIMING.durationSec})`,
    })
    .option('warmup', {
      type: 'number',
      describe: `warmup seconds per run, not counted (default ${FULL_TIMING.warmupSec}, quick ${QUICK_TIMING.warmupSec})`,
    })
    .option('repeat', {
      type: 'number',
      describe: `runs per cell, reported as median and spread (default ${FULL_TIMING.repeat}, quick ${QUICK_TIMING.repeat})`,
    })
    .option('timeout', {
      type: 'number',
      default: 2000,
      describe: 'per-request timeout in ms; a request without a reply by then counts as timed out',
    })
    .option('client-threads', { type: 'number', default: 1, describe: 'worker threads for the load generator' })
    .option('quick', { type: 'boolean', default: false, describe: 'a small matrix that finishes in about two minutes' })
    .option('pin', { type: 'boolean', default: false, describe: 'server on core 0, load generator on core 1 (taskset)' })
    .option('calibration', { type: 'boolean', default: true, describe: 'compare our generator with redis-benchmark (--no-calibration to skip)' })
    .option('out', { type: 'string', default: 'results', describe: 'directory that receives <run-id>/ and the latest link' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan and the cells, run nothing' })
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseSync();
  if (args.help) process.exit(0);
  if (args._.length > 0) throw new UsageError(`unexpected argument '${args._[0]}'`);

  const base: MatrixSelection = args.quick ? QUICK_SELECTION : FULL_SELECTION;
  const timing = args.quick ? QUICK_TIMING : FULL_TIMING;
  const variants: VariantName[] =
    args.variants === undefined
      ? [...base.variants]
      : args.variants.trim() === 'none'
        ? []
        : listOf<VariantName>(args.variants, VARIANTS, 'variants');
  const workloads = args.workloads === undefined ? base.workloads : listOf<BenchWorkload>(args.workloads, BENCH_WORKLOADS, 'workloads');
  const connections = args.connections === undefined ? base.connections : connectionList(args.connections);
  // A narrower HTTP slice (as in --quick) gives way to workloads or connections chosen by hand.
  const scope = base.httpScope;
  const httpScope =
    scope && (args.workloads === undefined || args.connections === undefined)
      ? {
          workloads: args.workloads === undefined ? scope.workloads : workloads,
          connections: args.connections === undefined ? scope.connections : connections,
        }
      : undefined;
  const selection: MatrixSelection = {
    models: args.models === undefined ? base.models : listOf<Model>(args.models, MODELS, 'models'),
    workloads,
    connections,
    variants,
    openLoopFractions: base.openLoopFractions,
    transports: args.transports === undefined ? base.transports : listOf<Transport>(args.transports, TRANSPORTS, 'transports'),
    ...(httpScope ? { httpScope } : {}),
  };
  const repeat = positive(args.repeat ?? timing.repeat, 'repeat', { integer: true, max: 50 });
  const httpRepeat =
    args['http-repeat'] === undefined
      ? Math.min(timing.httpRepeat, repeat)
      : positive(args['http-repeat'], 'http-repeat', { integer: true, max: 50 });
  const httpRepeatReason =
    args['http-repeat'] !== undefined
      ? 'set with --http-repeat'
      : httpRepeat < repeat
        ? `line-protocol cells run ${repeat} times; one run per HTTP cell keeps the full matrix near 30 minutes on two cores (--http-repeat to change)`
        : 'as many runs as the line-protocol cells';
  const soakSec = args.soak === undefined ? null : soakDuration(args.soak);
  const durationSec = positive(args.duration ?? timing.durationSec, 'duration', { max: 3600 });
  const warmupSec = positive(args.warmup ?? timing.warmupSec, 'warmup', { max: 600, allowZero: true });
  const timeoutMs = positive(args.timeout, 'timeout', { max: 600_000 });
  const clientThreads = positive(args['client-threads'], 'client-threads', { integer: true, max: 64 });
  const session: SessionConfig = {
    pin: args.pin,
    outDir: path.resolve(args.out),
    serverScript: path.join(repoDir, 'dist', 'servers', 'serve.js'),
    repoDir,
    argv,
    flags: {
      quick: args.quick,
      models: selection.models,
      workloads: selection.workloads,
      connections: selection.connections,
      variants: selection.variants,
      transports: selection.transports,
      httpRepeat,
      soak: args.soak ?? null,
      duration: args.duration ?? timing.durationSec,
      warmup: args.warmup ?? timing.warmupSec,
      repeat: args.repeat ?? timing.repeat,
      timeout: args.timeout,
      clientThreads: args['client-threads'],
      pin: args.pin,
      calibration: args.calibration,
      out: args.out,
    },
  };
  if (args.chaos !== undefined) {
    const seed = args.seed ?? Date.now() % 100_000;
    const durationSec = durationFlag('chaos', args.chaos);
    return { kind: 'chaos', config: { models: selection.models, durationSec, serverScript: session.serverScript, seed } };
  }
  if (soakSec !== null) {
    const soakConnections = args.connections === undefined ? SOAK_CONNECTIONS : Math.max(...connections);
    return {
      kind: 'soak',
      config: { ...session, models: selection.models, durationSec: soakSec, connections: soakConnections, timeoutMs, dryRun: args['dry-run'] },
    };
  }
  return {
    kind: 'matrix',
    config: {
      ...session,
      selection,
      durationSec,
      warmupSec,
      repeat,
      timeoutMs,
      clientThreads,
      httpRepeat,
      httpRepeatReason,
      calibration: args.calibration,
      calibrationConnections: defaultCalibrationConnections(args.quick),
      dryRun: args['dry-run'],
    },
  };
}

function soakDuration(raw: string): number {
  return durationFlag('soak', raw);
}

function durationFlag(flag: string, raw: string): number {
  try {
    return parseSoakDuration(raw);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

async function main(): Promise<number> {
  let command: BenchCommand;
  try {
    command = parseArgs(hideBin(process.argv));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\nrun with --help for the options\n`);
    return 2;
  }
  try {
    if (command.kind === 'soak') return (await runSoak(command.config)).exitCode;
    if (command.kind === 'chaos') return await runChaosCommand(command.config);
    return (await runSuite(command.config)).exitCode;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 1;
  }
}

// Exit explicitly: a load run abandoned at its deadline may still hold a socket open.
main().then((code) => process.exit(code));
