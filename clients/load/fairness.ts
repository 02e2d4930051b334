// How evenly the server shared itself among the connections.
//
// Raj Jain's fairness index is (Σx)² / (n·Σx²) over the requests each
// connection completed. It is 1 when every connection got the same service and
// falls towards 1/n when one connection got everything, so a model that
// starves connections (the blocking server serving one client to its end)
// shows it in one number.

export function jainFairness(counts: readonly number[]): number {
  if (counts.length === 0) return 1;
  let sum = 0;
  let sumOfSquares = 0;
  for (const x of counts) {
    sum += x;
    sumOfSquares += x * x;
  }
  // Nobody served anything: every connection got the same (nothing). Report 1
  // rather than NaN; the request count says the rest.
  if (sumOfSquares === 0) return 1;
  return (sum * sum) / (counts.length * sumOfSquares);
}
