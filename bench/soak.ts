// Soak: does a model hold its memory under constant load?
//
// A cell of the matrix lasts a few seconds, far too short to see a server
// lose a megabyte a minute. A soak drives one model at a time with constant
// closed-loop load for a long while and watches it from outside: resident
// memory, threads, open file descriptors (and how many are sockets), from
// /proc every second or so, and p99 latency per second from the load
// generator's own timeline. Every model gets the whole duration, one after
// another, so `--soak 10m` over the four models takes 40 minutes.
//
// The load is the mixed workload (echo, kv, WORK 1000, SLEEP 10), so every
// path of the server is exercised, run as consecutive windows of up to ten
// seconds. Each window opens its connections and closes them at its end, so a
// server that keeps something per closed connection (a descriptor, a worker, a
// buffer) accumulates it where the samples can see it. Between windows the
// measured load gives way to the generator's start-up: a PING per connection
// and a SET for each of the 1000 keys, a fraction of a second (about a second
// against the blocking model, whose waiting connections hold each start).
//
// The run fails when resident memory keeps growing. "Keeps growing" is
// judged on the samples of each model (see soak-growth.ts), and only for runs
// long enough to tell growth from warm-up: a process under new load grows for
// a while as its heap, JIT and buffers find their size, and then levels off.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { runLoad, defaultLoadOptions, type LoadOptions } from '../clients/load/index.js';
import { withDeadline } from './deadline.js';
import type { Model } from './matrix.js';
import { pinnedCommand } from './pin.js';
import { formatDuration } from './progress.js';
import { openRunSession, type RunSession, type SessionConfig } from './run-session.js';
import { parseProcStat, statusKilobytes } from './sampler.js';
import { startServer, waitForPong } from './server-process.js';
import { GROWTH_RULE, judgeGrowth } from './soak-growth.js';
import { SOAK_MIX, type ModelSoak, type SoakResults, type SoakSample } from './soak-record.js';

/** What `--soak` asks for: which models, for how long each, under how many connections. */
export interface SoakConfig extends SessionConfig {
  models: readonly Model[];
  durationSec: number;
  connections: number;
  timeoutMs: number;
  dryRun: boolean;
}

/** Connections held open by the soak's load, unless --connections says otherwise. */
export const SOAK_CONNECTIONS = 16;

const MiB = 2 ** 20;

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/** `30s`, `10m`, `1h`, `1.5h`: a duration with its unit, in seconds. */
export function parseSoakDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)\s*$/i.exec(raw);
  if (!m) throw new Error(`'${raw}' is not a duration; give a number and a unit, e.g. 30s, 10m or 1h`);
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2].toLowerCase() as 's' | 'm' | 'h'];
  if (!(seconds >= 1 && seconds <= 24 * 3600)) throw new Error(`'${raw}' must be from 1 s to 24 h`);
  return seconds;
}

/** Load windows of at most ten seconds and at least one, six or more per model. */
export function windowSeconds(durationSec: number): number {
  return Math.min(10, Math.max(1, durationSec / 6));
}

/** About 240 samples for short runs, one a second for long ones. */
export function sampleIntervalMs(durationSec: number): number {
  return Math.round(Math.min(1000, Math.max(250, (durationSec * 1000) / 240)));
}

function readSample(pid: number, clkTck: number, tSec: number): SoakSample | null {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const fds = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed between the listing and the look: it is not open any more
      }
    }
    return {
      tSec: round(tSec, 3),
      rssBytes: statusKilobytes(status, 'VmRSS') ?? 0,
      threads: stat.threads,
      fds: fds.length,
      sockets,
      cpuMs: ((stat.utimeTicks + stat.stimeTicks) * 1000) / clkTck,
    };
  } catch {
    return null; // the process has gone; the soak notices that itself
  }
}

function soakLoadOptions(port: number, connections: number, durationSec: number, timeoutMs: number): LoadOptions {
  return {
    ...defaultLoadOptions,
    host: '127.0.0.1',
    port,
    workload: 'mixed',
    mix: SOAK_MIX,
    connections,
    durationSec,
    warmupSec: 0,
    pipeline: 1,
    reconnect: false,
    timeoutMs,
  };
}

interface SoakContext {
  serverScript: string;
  session: RunSession;
  settings: SoakResults['settings'];
  log(line: string): void;
}

async function soakModel(model: Model, ctx: SoakContext): Promise<ModelSoak> {
  const { settings } = ctx;
  const record: ModelSoak = {
    model,
    status: 'failed',
    verdict: judgeGrowth([]),
    server: { pid: null, listeningLine: null, stop: null },
    samples: [],
    timeline: [],
    windows: [],
  };
  const { command, args } = pinnedCommand(ctx.session.placement, process.execPath, [
    ctx.serverScript,
    `--model=${model}`,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ]);
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    server = await startServer({ command, args });
    record.server.pid = server.pid;
    record.server.listeningLine = server.listeningLine;
    if (server.port === null) throw new Error(`the server announced no line-protocol address: ${server.listeningLine}`);
    await waitForPong(server.host, server.port);
    const began = performance.now();
    const elapsed = () => (performance.now() - began) / 1000;
    const pid = server.pid;
    const sample = () => {
      const s = readSample(pid, ctx.session.clkTck, elapsed());
      if (s) record.samples.push(s);
    };
    sample();
    timer = setInterval(sample, settings.sampleIntervalMs);
    while (elapsed() < settings.durationSecPerModel - 0.5) {
      if (ctx.session.interrupted()) {
        record.status = 'interrupted';
        break;
      }
      const windowSec = Math.min(settings.windowSec, settings.durationSecPerModel - elapsed());
      const options = soakLoadOptions(server.port, settings.connections, windowSec, settings.timeoutMs);
      const load = await withDeadline(runLoad(options), (windowSec + settings.timeoutMs / 1000 + 35) * 1000, 'a soak window');
      const startSec = elapsed() - load.measuredSec;
      record.windows.push({
        startSec: round(startSec, 3),
        measuredSec: load.measuredSec,
        requestsPerSec: Math.round(load.throughput.requestsPerSec),
        p99Us: load.ok > 0 ? load.latency.p99Us : null,
        errors: load.errors,
      });
      for (const t of load.timeline) record.timeline.push({ tSec: round(startSec + t.second, 3), requests: t.requests, p99Us: t.p99Us });
      if (server.hasExited()) {
        const info = server.exitInfo();
        throw new Error(`the server exited during the soak (code ${info?.code}, signal ${info?.signal})`);
      }
      const last = record.samples[record.samples.length - 1];
      ctx.log(
        `  ${model} ${formatDuration(elapsed())}/${formatDuration(settings.durationSecPerModel)}: ${Math.round(load.throughput.requestsPerSec)} req/s, ` +
          `p99 ${(load.latency.p99Us / 1000).toFixed(2)} ms, rss ${last ? (last.rssBytes / MiB).toFixed(1) : '-'} MiB, fds ${last?.fds ?? '-'}`,
      );
    }
    clearInterval(timer);
    sample();
    if (record.status !== 'interrupted') record.status = 'ok';
    record.verdict = judgeGrowth(record.samples, settings.rule);
  } catch (err) {
    record.status = 'failed';
    record.failure = (err as Error).message;
    record.verdict = judgeGrowth(record.samples, settings.rule);
  } finally {
    clearInterval(timer);
    if (server) {
      record.server.stop = await server.stop();
      if (record.status === 'failed' && server.stderrTail()) record.server.stderrTail = server.stderrTail();
    }
  }
  return record;
}

/** The settings a soak of this configuration runs with. */
function soakSettings(config: SoakConfig): SoakResults['settings'] {
  return {
    durationSecPerModel: config.durationSec,
    connections: config.connections,
    workload: 'mixed',
    mix: SOAK_MIX,
    windowSec: windowSeconds(config.durationSec),
    sampleIntervalMs: sampleIntervalMs(config.durationSec),
    timeoutMs: config.timeoutMs,
    rule: GROWTH_RULE,
  };
}

/** One line saying what the soak will do and how long it will take. */
export function describeSoakPlan(config: SoakConfig): string {
  const settings = soakSettings(config);
  const each = settings.durationSecPerModel;
  return (
    `soak: ${config.models.join(', ')}, one after another, ${formatDuration(each)} each ` +
    `(${formatDuration(each * config.models.length)} in all); ${settings.connections} connections of mixed load ` +
    `in windows of ${Math.round(settings.windowSec * 100) / 100} s; memory sampled every ${settings.sampleIntervalMs} ms`
  );
}

/** What keeps a soak from passing: a model whose server failed, or whose memory kept growing. */
function problemsOf(results: SoakResults): string[] {
  return results.models.flatMap((m) =>
    m.status === 'failed' ? [`${m.model}: ${m.failure}`] : m.verdict.verdict === 'growing' ? [`${m.model}: ${m.verdict.explanation}`] : [],
  );
}

async function drawSoakCharts(results: SoakResults, dir: string, log: (line: string) => void): Promise<void> {
  // Loaded here, not at the top: the native canvas is needed only once there is something to draw.
  const { renderSoakChart } = await import('./charts/soak.js');
  for (const m of results.models) {
    try {
      results.charts.push(renderSoakChart(m, results, dir));
    } catch (err) {
      log(`the chart for ${m.model} could not be drawn: ${(err as Error).message}`);
    }
  }
}

function printSoakSummary(results: SoakResults, dir: string): void {
  for (const m of results.models) {
    const last = m.samples[m.samples.length - 1];
    const first = m.samples[0];
    process.stdout.write(
      `${m.model.padEnd(16)} ${m.status.padEnd(12)} ${m.verdict.verdict.padEnd(20)} ` +
        `rss ${first ? (first.rssBytes / MiB).toFixed(1) : '-'} -> ${last ? (last.rssBytes / MiB).toFixed(1) : '-'} MiB, ` +
        `fds ${first?.fds ?? '-'} -> ${last?.fds ?? '-'}, threads ${first?.threads ?? '-'} -> ${last?.threads ?? '-'}\n`,
    );
  }
  process.stdout.write(`soak results in ${dir}\n`);
}

export async function runSoak(
  config: SoakConfig,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<{ runDir: string | null; results: SoakResults | null; exitCode: number }> {
  const settings = soakSettings(config);
  log(describeSoakPlan(config));
  if (config.dryRun) return { runDir: null, results: null, exitCode: 0 };
  const session = openRunSession(config, { proc: 'required', finishing: 'the current window' }, log);
  const results: SoakResults = {
    kind: 'soak',
    runId: session.runId,
    status: 'running',
    outcome: null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    machine: session.machine,
    invocation: { argv: config.argv, flags: config.flags },
    placement: session.placement,
    settings,
    models: [],
    charts: [],
  };
  session.writeRecord('soak.json', results);
  const ctx: SoakContext = { serverScript: config.serverScript, session, settings, log };
  try {
    for (const model of config.models) {
      if (session.interrupted()) break;
      log(`soaking ${model}`);
      const soak = await soakModel(model, ctx);
      results.models.push(soak);
      session.writeRecord('soak.json', results);
      log(`  ${model}: ${soak.status === 'failed' ? `FAILED: ${soak.failure}` : soak.verdict.explanation}`);
    }
  } finally {
    session.close();
  }

  results.status = session.interrupted() ? 'interrupted' : 'complete';
  results.finishedAt = new Date().toISOString();
  const problems = problemsOf(results);
  results.outcome = problems.length > 0 ? 'fail' : 'pass';
  await drawSoakCharts(results, session.dir, log);
  session.writeRecord('soak.json', results);
  // `latest-soak` points at the newest soak; `latest` stays with the newest matrix run.
  session.pointLink('latest-soak');

  printSoakSummary(results, session.dir);
  if (problems.length > 0) {
    process.stderr.write(`soak failed:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return { runDir: session.dir, results, exitCode: 1 };
  }
  const unjudged = results.models.filter((m) => m.verdict.verdict === 'too short to judge');
  if (unjudged.length > 0) log(`note: ${unjudged.map((m) => m.model).join(', ')} not judged: ${unjudged[0].verdict.explanation}`);
  return { runDir: session.dir, results, exitCode: session.interrupted() ? 130 : 0 };
}
