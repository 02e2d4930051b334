// Progress on stderr, so stdout stays clean for the summary.
//
// On a terminal a single bar redraws in place: the cell running, cells done
// out of the total, and the time left. Into a file or a pipe (a CI log) the
// same information comes as one plain line per repeat, since carriage returns
// make logs unreadable.
//
// Time left starts as the plan's estimate and is corrected as repeats finish:
// the remaining repeats are assumed to take as long as the finished ones did.

import type { CellSpec } from './matrix.js';

export interface ProgressOptions {
  totalCells: number;
  /** Runs of all cells together, as the plan counted them (HTTP cells may run fewer times than line cells). */
  totalRuns: number;
  estimatedSec: number;
  stream?: NodeJS.WriteStream;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly began = Date.now();
  private cellsDone = 0;
  private runsDone = 0;
  /** Runs the finished cells were planned to take, whether or not they all ran. */
  private runsOfFinishedCells = 0;
  private lastRunEnded = Date.now();
  private current = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    if (this.tty) this.timer = setInterval(() => this.draw(), 500).unref();
  }

  /**
   * Seconds left: the estimate at first, then the average pace of the finished
   * runs applied to those still to come, less the time the current run has
   * already had.
   */
  secondsLeft(): number {
    const now = Date.now();
    if (this.runsDone === 0) return Math.max(0, this.options.estimatedSec - (now - this.began) / 1000);
    const perRun = (this.lastRunEnded - this.began) / 1000 / this.runsDone;
    const intoCurrent = (now - this.lastRunEnded) / 1000;
    return Math.max(0, perRun * (this.options.totalRuns - this.runsDone) - Math.min(intoCurrent, perRun));
  }

  repeatStarted(spec: CellSpec, index: number, repeats: number): void {
    this.current = `${spec.id} (repeat ${index + 1}/${repeats})`;
    if (this.tty) this.draw();
    else this.line(`[${this.cellsDone + 1}/${this.options.totalCells}] ${this.current} ... ~${formatDuration(this.secondsLeft())} left`);
  }

  repeatFinished(outcome: string): void {
    this.runsDone++;
    this.lastRunEnded = Date.now();
    if (!this.tty) this.line(`    ${outcome}`);
  }

  /** Counts the cell, planned to run `repeats` times, as done, including any of its repeats that never ran. */
  cellFinished(repeats: number): void {
    this.cellsDone++;
    this.runsOfFinishedCells += repeats;
    if (this.runsDone < this.runsOfFinishedCells) {
      this.runsDone = this.runsOfFinishedCells;
      this.lastRunEnded = Date.now();
    }
    if (this.tty) this.draw();
  }

  /** A message that must not be overwritten by the bar. */
  log(text: string): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
    this.line(text);
    if (this.tty) this.draw();
  }

  finish(): void {
    clearInterval(this.timer);
    if (this.tty) this.stream.write('\r\x1b[2K');
  }

  private line(text: string): void {
    this.stream.write(text + '\n');
  }

  private draw(): void {
    const width = 24;
    const filled = Math.round((this.cellsDone / Math.max(1, this.options.totalCells)) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const columns = this.stream.columns ?? 100;
    const text = `[${bar}] ${this.cellsDone}/${this.options.totalCells} cells, ~${formatDuration(this.secondsLeft())} left  ${this.current}`;
    this.stream.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
  }
}
