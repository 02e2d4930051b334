// Summaries of repeated measurements.
//
// A single run of a benchmark is an anecdote: the machine may have been busy,
// a garbage collection may have landed in the middle. The suite repeats each
// cell and reports the median, which one odd run cannot drag, together with the
// smallest and largest value, so that a reader sees how far to trust it.

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many repeats contributed. */
  n: number;
}

/** The middle value; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min and max of the finite values; null when there are none. */
export function spread(values: readonly number[]): Spread | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return null;
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  };
}

/**
 * The index of the repeat whose value is the median (for an even count, the
 * lower of the two middle ones). Charts that need one whole run, such as a
 * latency distribution, take this repeat rather than mixing several.
 */
export function medianIndex(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median index of no values');
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  return order[Math.floor((order.length - 1) / 2)].i;
}
