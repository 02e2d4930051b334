// Which connection an open loop's due request goes out on.
//
// wrk2 keeps one request in flight per connection and sends each due request
// on a connection that is free, as independent users would: no user's request
// waits behind another's on the same connection. When every connection is
// busy, the request cannot be sent on time at all; it waits here, in the
// generator, for the first connection to come free, and its latency, which
// runs from the time it was due, includes that wait. That such requests exist
// is news in itself: either the connections are too few for the rate (by
// Little's law, a rate R at latency W keeps R × W requests in flight) or the
// server has saturated, so the driver counts them.
//
// The alternative, request i on connection i mod n whatever it has in flight,
// pipelines: it batches requests (which can carry an open loop past the
// closed-loop ceiling) and adds head-of-line blocking that independent users
// would not cause. The driver keeps it as the explicit `pipelined` mode.

export class IdleConnections {
  /** Slots with nothing in flight; the last freed is the first reused, which keeps few connections busy at low rates. */
  private readonly idle: number[];
  /** Due times of requests waiting for a connection, oldest first. */
  private readonly waiting: number[] = [];

  constructor(slotCount: number) {
    this.idle = Array.from({ length: slotCount }, (_, local) => slotCount - 1 - local);
  }

  /** A free slot for a request due at `dueUs`; or none, and then the request waits for one. */
  take(dueUs: number): number | undefined {
    const local = this.idle.pop();
    if (local === undefined) this.waiting.push(dueUs);
    return local;
  }

  /** `local` has nothing in flight: the due time of the oldest waiting request, to send on it now; or none, and it waits. */
  free(local: number): number | undefined {
    const dueUs = this.waiting.shift();
    if (dueUs === undefined) this.idle.push(local);
    return dueUs;
  }

  /** Takes out the waiting requests due more than `timeoutUs` before `nowUs` (or all of them), and answers their due times. */
  expire(nowUs: number, timeoutUs: number, all = false): number[] {
    const expired: number[] = [];
    while (this.waiting.length > 0 && (all || nowUs - this.waiting[0] > timeoutUs)) expired.push(this.waiting.shift()!);
    return expired;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }
}
