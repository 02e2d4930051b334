// A time limit for work that might never finish.
//
// A load run, a soak window or a calibration run waits on sockets and on
// another process; if either wedges, the promise never settles and the suite
// would hang with it. Racing the work against a timer turns "never" into a
// failure with a reason, which the caller records like any other failure.
// The work itself is not cancelled (a promise cannot be): it is left to
// finish or fail quietly, and the caller moves on.

/** Rejects with a clear reason if the promise has not settled in time; the loser is left to finish quietly. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  work.catch(() => {}); // a late rejection after the deadline has nothing left to tell
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
