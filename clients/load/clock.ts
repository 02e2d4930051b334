// One clock for every thread of a run.
//
// Worker threads each have their own `performance.timeOrigin`, so
// `performance.now()` readings from two threads cannot be compared. The
// process-wide monotonic clock behind `process.hrtime` can: every thread reads
// the same counter, so a start time chosen on the main thread means the same
// instant in every worker.

/** Microseconds on the process-wide monotonic clock (fractional). */
export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}
