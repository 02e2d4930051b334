// The engine: keeps a set of connections busy and measures what comes back.
//
// One driver runs on one thread and owns some of the run's connections
// ("slots"). It works in one of two ways:
//
// - Closed loop (the default): each connection keeps `pipeline` requests in
//   flight and sends the next as soon as a reply comes. The server sets the
//   pace. This is how most benchmarks work, and it has a blind spot: when the
//   server stalls, the client stops sending too, so the stall costs one slow
//   request per connection and the rest of the measurements never see it.
//
// - Open loop (`rate`): requests are due on a schedule (Poisson arrivals by
//   default, arrivals.ts) and are sent when due whether or not earlier ones
//   were answered. Latency runs from the time a request was due, so a request
//   that waited behind a stall is charged for the wait: wrk2's correction for
//   "coordinated omission". As in wrk2, each due request goes out on a
//   connection with nothing in flight (open-loop.ts says why).
//
// Before the clock starts, `prepare` opens every connection and waits, within
// bounds, for one PING on each (prepare.ts, `GreetingWatch`, says why).
//
// Only requests due inside the measured window count; warmup traffic goes
// through the same code and is thrown away. When the window closes the driver
// stops sending and waits (at most the timeout) for the replies still owed, so
// requests caught behind a stall at the very end are counted too.
//
// The latency histogram holds good replies and timed-out requests, each of
// those at no less than the timeout (in open loop, with everything queued
// behind it on its connection): leaving them out is the survivorship that
// coordinated omission is about, where a longer stall shows better
// percentiles. Other errors are counted by kind beside it: a fast
// `ERR server busy` must not make an overloaded server look quick.
import { nowUs } from './clock.js';
import { Channel, type ChannelEvents, type Pending } from './connection.js';
import { dialectFor, type Dialect, type RawReply } from './dialect.js';
import { createLatencyHistogram, recordLatency } from './histogram.js';
import { KvSpace } from './kv.js';
import { ArrivalSchedule } from './arrivals.js';
import { IdleConnections } from './open-loop.js';
import { RunTimers } from './timers.js';
import { GreetingWatch } from './prepare.js';
import type { ErrorKind, Outcome } from './ops.js';
import { usesKeyspace, WorkloadGenerator } from './workloads.js';
import { emptyDriverReport, type DriverReport, type DriverSetup, type RunClock } from './driver-report.js';
import type { LoadOptions } from './types.js';

/** Pause before reconnecting after a failure, so a dead server is not hammered in a tight loop. */
const RETRY_AFTER_REFUSED_MS = 50;
const RETRY_AFTER_FAILURE_MS = 5;

export class Driver {
  private readonly options: LoadOptions;
  private readonly dialect: Dialect;
  private readonly generator: WorkloadGenerator;
  private readonly openLoop: boolean;
  private readonly depth: number;
  private readonly timeoutUs: number;
  private readonly tickets: Int32Array | undefined;

  private clock!: RunClock;
  private finishRun!: (report: DriverReport) => void;
  private sending = false;
  private started = false;
  private finished = false;
  /** While preparing: the connections still waiting for their first PONG. */
  private readonly greeted = new Map<number, () => void>();
  private readonly channels: (Channel | undefined)[];
  private readonly live = new Set<Channel>();
  private readonly timers = new RunTimers();
  private sweepTimer: NodeJS.Timeout | undefined;
  private openLoopSent = 0;
  private schedule!: ArrivalSchedule;
  /** Open loop, `idle` mode: which connections are free, and the requests waiting for one. */
  private readonly idle: IdleConnections | undefined;

  private readonly report: DriverReport;

  constructor(private readonly setup: DriverSetup) {
    const { options, shared } = setup;
    this.options = options;
    this.dialect = dialectFor(options.dialect);
    const kv = usesKeyspace(options) && shared.kvVersions ? new KvSpace(options.keys, options.size, shared.runTag, shared.kvVersions) : undefined;
    this.generator = new WorkloadGenerator(options, kv, `${shared.runTag}${setup.threadIndex.toString(36)}`);
    this.openLoop = options.rate !== undefined;
    this.idle = this.openLoop && options.openLoopMode !== 'pipelined' && !options.reconnect ? new IdleConnections(setup.slots.length) : undefined;
    this.depth = options.reconnect ? 1 : options.pipeline;
    this.timeoutUs = options.timeoutMs * 1000;
    this.tickets = shared.tickets ? new Int32Array(shared.tickets) : undefined;
    this.channels = setup.slots.map(() => undefined);
    this.report = emptyDriverReport(setup.slots.length);
  }

  /**
   * Opens this driver's connections and waits, within bounds, for one PING
   * answered on each. Resolves with how many answered.
   */
  async prepare(): Promise<number> {
    if (this.options.reconnect) return 0;
    const greetings = new GreetingWatch();
    this.setup.slots.forEach((_, local) => {
      this.greeted.set(local, () => {
        this.greeted.delete(local);
        greetings.answered();
      });
      const channel = this.connect(local);
      this.channels[local] = channel;
      channel.send({ op: { kind: 'ping' }, scheduledUs: nowUs(), measured: false, slot: local });
      channel.flush();
    });
    await greetings.until(() => this.greeted.size === 0);
    const unanswered = this.greeted.size;
    this.greeted.clear();
    return this.setup.slots.length - unanswered;
  }

  /** Run to the timetable; resolves once the measured window closed and the stragglers are in. */
  run(clock: RunClock): Promise<DriverReport> {
    this.clock = clock;
    return new Promise((resolve) => {
      this.finishRun = resolve;
      this.timers.at(clock.startUs, () => this.begin());
    });
  }

  private begin(): void {
    this.sending = true;
    this.started = true;
    const sweepMs = Math.max(1, Math.min(50, this.options.timeoutMs / 4));
    this.sweepTimer = setInterval(() => this.sweepTimeouts(), sweepMs);
    if (this.openLoop) {
      // No end timer here: the schedule itself ends the run once the next request
      // would be due after the window, so a generator that fell behind still sends
      // every request that was due inside it.
      const totalRate = this.options.rate!;
      const myRate = (totalRate * this.setup.slots.length) / this.options.connections;
      // Threads start a global interval apart, so they do not all send at the same instants.
      const offsetUs = (this.setup.threadIndex * 1e6) / totalRate;
      this.schedule = new ArrivalSchedule(myRate, this.clock.startUs + offsetUs, this.options.arrivals ?? 'poisson', this.setup.threadIndex + 1);
      this.tick();
    } else {
      if (this.clock.endUs !== undefined) this.timers.at(this.clock.endUs, () => this.stopSending());
      this.setup.slots.forEach((_, local) => this.openClosedLoopSlot(local));
    }
  }

  // ---- Closed loop -------------------------------------------------------

  private openClosedLoopSlot(local: number): void {
    // Admit the first request before connecting: a connection that would carry
    // nothing must not be opened (with --reconnect, the server counts them).
    const now = nowUs();
    if (!this.admits(now)) return this.finishIfDrained();
    const channel = this.channels[local] ?? this.connect(local);
    this.channels[local] = channel;
    this.issue(local, channel, now, true);
    this.topUp(local, channel);
  }

  /** Fill the connection's pipeline back up to its depth. */
  private topUp(local: number, channel: Channel): void {
    const now = nowUs();
    while (channel.inFlight < this.depth && this.issue(local, channel, now)) {
      // keep going
    }
    channel.flush();
    if (channel.inFlight === 0) {
      this.retire(local, channel);
      this.finishIfDrained();
    }
  }

  // ---- Open loop ---------------------------------------------------------

  private tick(): void {
    if (this.finished) return;
    const now = nowUs();
    const touched = new Set<Channel>();
    while (this.sending && this.schedule.peek() <= now) {
      if (!this.admits(this.schedule.peek())) break;
      const dueUs = this.schedule.take();
      const lagUs = now - dueUs;
      this.report.sendLagSumUs += lagUs;
      this.report.sendLagCount++;
      this.report.maxSendLagUs = Math.max(this.report.maxSendLagUs, lagUs);
      const channel = this.dispatch(dueUs);
      if (channel) touched.add(channel);
    }
    for (const channel of touched) channel.flush();
    if (!this.sending) return this.finishIfDrained();
    const waitMs = (this.schedule.peek() - nowUs()) / 1000;
    if (waitMs > 0) this.timers.after(waitMs, () => this.tick());
    else this.timers.soon(() => this.tick());
  }

  /** Puts a due request on its connection, or (idle mode, none idle) makes it wait for one. */
  private dispatch(dueUs: number): Channel | undefined {
    if (this.idle) {
      const local = this.idle.take(dueUs);
      if (local !== undefined) return this.sendOnSlot(local, dueUs);
      if (dueUs >= this.clock.measureStartUs) this.report.waitedForConnection++;
      return undefined;
    }
    const local = this.openLoopSent++ % this.setup.slots.length;
    const channel = this.options.reconnect ? this.connect(local) : (this.channels[local] ??= this.connect(local));
    this.issue(local, channel, dueUs, true);
    return channel;
  }

  private sendOnSlot(local: number, dueUs: number): Channel {
    const channel = (this.channels[local] ??= this.connect(local));
    this.issue(local, channel, dueUs, true);
    return channel;
  }

  /** Idle mode: a slot has nothing in flight; the oldest waiting request takes it, else it waits. */
  private slotIsIdle(local: number): void {
    const dueUs = this.idle!.free(local);
    if (dueUs !== undefined) this.sendOnSlot(local, dueUs).flush();
  }

  /** Idle mode: requests that waited for a connection longer than the timeout (or, at the end, at all) are timed out. */
  private timeOutWaitingRequests(now: number, all = false): void {
    for (const dueUs of this.idle?.expire(now, this.timeoutUs, all) ?? []) {
      this.record({ op: { kind: 'ping' }, scheduledUs: dueUs, measured: dueUs >= this.clock.measureStartUs, slot: -1 }, 'timeout', now);
    }
  }

  // ---- Sending and receiving ---------------------------------------------

  /** Whether a request due at `scheduledUs` may still be sent; closes the run when not. */
  private admits(scheduledUs: number): boolean {
    if (!this.sending) return false;
    const { endUs, measureStartUs } = this.clock;
    if (endUs !== undefined && scheduledUs >= endUs) {
      this.stopSending();
      return false;
    }
    if (scheduledUs >= measureStartUs && this.tickets && Atomics.add(this.tickets, 0, 1) >= this.options.requests!) {
      this.stopSending();
      return false;
    }
    return true;
  }

  /** Queue one request on `channel` (call `admits` first when `admitted`). */
  private issue(local: number, channel: Channel, scheduledUs: number, admitted = false): boolean {
    if (!admitted && !this.admits(scheduledUs)) return false;
    const measured = scheduledUs >= this.clock.measureStartUs;
    const bytes = channel.send({ op: this.generator.next(), scheduledUs, measured, slot: local });
    if (measured) {
      const report = this.report;
      report.bytesSent += bytes;
      report.measuredSent++;
      const sentUs = this.openLoop ? nowUs() : scheduledUs;
      if (report.firstSendUs === 0) report.firstSendUs = sentUs;
      report.lastSendUs = sentUs;
    }
    return true;
  }

  private connect(local: number): Channel {
    const events: ChannelEvents = {
      onReply: (channel, pending, reply, atUs) => this.onReply(local, channel, pending, reply, atUs),
      onBytes: (bytes, atUs) => {
        if (this.started && atUs >= this.clock.measureStartUs) this.report.bytesReceived += bytes;
      },
      onChunkDone: (channel) => this.onChunkDone(local, channel),
      onFailure: (channel, lost, kind, atUs) => this.onFailure(local, channel, lost, kind, atUs),
    };
    const channel = new Channel(this.options.host, this.options.port, this.dialect, events);
    this.live.add(channel);
    return channel;
  }

  private onReply(local: number, channel: Channel, pending: Pending, reply: RawReply, atUs: number): void {
    if (!this.started) return this.greeted.get(local)?.();
    const outcome = this.judge(pending, reply);
    if (outcome === 'refused') channel.markRefusedByServer();
    this.record(pending, outcome, atUs);
    if (this.idle && channel.inFlight === 0 && outcome !== 'refused') this.slotIsIdle(local);
    if (this.options.reconnect && outcome !== 'refused') {
      // One request per connection: this one is done with.
      this.retire(local, channel);
      if (this.openLoop) this.finishIfDrained();
      else this.openClosedLoopSlot(local);
    }
  }

  private onChunkDone(local: number, channel: Channel): void {
    if (!this.started) return;
    // After a refusal the server is about to close: sending more would only be refused again.
    if (!this.openLoop && !this.options.reconnect && !channel.wasRefusedByServer) this.topUp(local, channel);
    else this.finishIfDrained();
  }

  private onFailure(local: number, channel: Channel, lost: Pending[], kind: ErrorKind, atUs: number): void {
    this.live.delete(channel);
    if (this.channels[local] === channel) this.channels[local] = undefined;
    // A connection lost while preparing is simply opened again when the run starts.
    if (!this.started) return;
    for (const pending of lost) this.record(pending, kind, atUs);
    // A connection that broke with nothing in flight is still an error worth seeing,
    // unless it is the close that follows a refusal already counted.
    if (lost.length === 0 && !channel.wasRefusedByServer && this.sending && atUs >= this.clock.measureStartUs) {
      this.report.errors[kind]++;
    }
    if (this.sending && !this.openLoop) {
      const retryMs = kind === 'refused' ? RETRY_AFTER_REFUSED_MS : RETRY_AFTER_FAILURE_MS;
      this.timers.after(retryMs, () => this.openClosedLoopSlot(local));
    } else if (this.idle) {
      // Its next request opens a fresh connection.
      this.slotIsIdle(local);
      this.finishIfDrained();
    } else {
      this.finishIfDrained();
    }
  }

  private judge(pending: Pending, reply: RawReply): Outcome {
    const decoded = this.dialect.decode(pending.op, reply);
    if (!decoded.ok) return decoded.kind;
    return this.generator.isRightAnswer(pending.op, decoded.value) ? 'ok' : 'wrongReply';
  }

  private record(pending: Pending, outcome: Outcome, atUs: number): void {
    const report = this.report;
    const { measureStartUs, endUs } = this.clock;
    if (outcome === 'ok' && atUs >= measureStartUs && (endUs === undefined || atUs < endUs)) report.okInWindow++;
    if (!pending.measured) return;
    report.requests++;
    if (atUs > report.lastCompletionUs) report.lastCompletionUs = atUs;
    if (outcome !== 'ok') report.errors[outcome]++;
    if (outcome === 'timeout') report.timeoutsInLatency++;
    else if (outcome !== 'ok') return;
    else {
      report.ok++;
      report.slotCounts[pending.slot]++;
    }
    const latencyUs = outcome === 'timeout' ? Math.max(atUs - pending.scheduledUs, this.timeoutUs) : atUs - pending.scheduledUs;
    recordLatency(report.latency, latencyUs);
    const second = Math.max(0, Math.floor((atUs - this.clock.measureStartUs) / 1e6));
    while (report.timelineCounts.length <= second) {
      report.timelineCounts.push(0);
      report.timelineLatency.push(createLatencyHistogram(2));
    }
    report.timelineCounts[second]++;
    recordLatency(report.timelineLatency[second], latencyUs);
  }

  // ---- Timeouts, stopping, finishing -------------------------------------

  /** Abandon any connection whose oldest request is overdue. */
  private sweepTimeouts(): void {
    const now = nowUs();
    this.timeOutWaitingRequests(now);
    for (const channel of this.live) {
      const oldest = channel.oldestScheduledUs();
      if (oldest !== undefined && now - oldest > this.timeoutUs) channel.abandon('timeout');
    }
  }

  private stopSending(): void {
    if (!this.sending) return;
    this.sending = false;
    for (const [local, channel] of this.channels.entries()) {
      if (channel && channel.inFlight === 0) this.retire(local, channel);
    }
    // Timeouts already bound the wait for stragglers; this is a last guard.
    this.timers.after(this.options.timeoutMs + 1000, () => this.finish());
    this.finishIfDrained();
  }

  private retire(local: number, channel: Channel): void {
    this.live.delete(channel);
    if (this.channels[local] === channel) this.channels[local] = undefined;
    channel.close();
  }

  private finishIfDrained(): void {
    if (this.sending || this.finished || (this.idle?.waitingCount ?? 0) > 0) return;
    for (const channel of this.live) if (channel.inFlight > 0) return;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.sending = false;
    clearInterval(this.sweepTimer);
    this.timers.cancelAll();
    this.timeOutWaitingRequests(nowUs(), true);
    for (const channel of [...this.live]) {
      // Anything still owed a reply now is overdue by definition.
      if (channel.inFlight > 0) channel.abandon('timeout');
      else channel.close();
    }
    this.live.clear();
    this.finishRun(this.report);
  }
}
