// Zipfian key choice: a few hot keys get most of the traffic.
//
// Real key-value traffic is skewed: the k-th most popular key is asked for in
// proportion to 1/k^s. With s = 0.99 (the skew YCSB made the usual choice) and
// 1000 keys, the hottest key alone gets about 13 % of the requests. This
// matters to servers that lock per key or shard a store: contention lives on
// the hot keys.
//
// The sampler is exact and simple rather than clever: it tabulates the
// cumulative distribution once (one double per key) and draws by binary search
// on a uniform random number. That costs O(n) memory and O(log n) per draw,
// which is fine for keyspaces up to millions of keys. Rank 0 is the hottest
// key; ranks map straight to key numbers.

export const DEFAULT_ZIPF_EXPONENT = 0.99;

export class ZipfSampler {
  private readonly cumulative: Float64Array;

  constructor(
    readonly n: number,
    readonly exponent = DEFAULT_ZIPF_EXPONENT,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    this.cumulative = new Float64Array(n);
    let total = 0;
    for (let rank = 0; rank < n; rank++) {
      total += 1 / Math.pow(rank + 1, exponent);
      this.cumulative[rank] = total;
    }
  }

  /** Probability of drawing `rank` (for tests and for explaining the skew). */
  probability(rank: number): number {
    const total = this.cumulative[this.n - 1];
    return 1 / Math.pow(rank + 1, this.exponent) / total;
  }

  /** A rank in [0, n), rank 0 the most likely. */
  next(): number {
    const target = this.random() * this.cumulative[this.n - 1];
    // First rank whose cumulative weight exceeds the target.
    let low = 0;
    let high = this.n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cumulative[mid] > target) high = mid;
      else low = mid + 1;
    }
    return low;
  }
}
