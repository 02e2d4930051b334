// Refusals: every way the server says no, in one table.
//
// A refusal is decided in many places (the parser, the store, a busy pool,
// the connection limit, a worker that died) and worded in one: the codec of
// the connection it is for. So it travels as data, a kind and a message, and
// never as text to be recognised later. The line protocol words every kind
// the same way, `ERR <message>`; HTTP answers each kind with its own status
// and `{"error":"<message>"}`. Because the status comes from the kind, a
// reply's text can never be taken for a refusal: an ECHO of "ERR server
// busy" is the client's own text, and over HTTP it is a 200 like any echo.
//
// Most kinds always say the same thing, and their message here is exactly
// what the line protocol has always sent. A few say what went wrong in
// words of their own (`badRequest`: which argument, which rule), and the
// HTTP-only kinds are refusals only the HTTP codec makes (no route, a head
// or body too large, a version it does not speak).
//
// A refusal is a plain object rather than an Error or a class instance
// because it crosses threads: a pool worker's reply reaches the main thread
// through piscina, by structured clone, and a prototype does not survive that.

interface RefusalDefinition {
  /** The HTTP status it is answered with. */
  status: number;
  /** What it always says, for a kind that always says the same thing. */
  message?: string;
}

export const REFUSALS = {
  /** The pool's workers are all busy and its queue is full: try again later. */
  busy: { status: 503, message: 'server busy' },
  /** The store has no room for the write. Not a passing overload: the same write fails until something is deleted (507). */
  storeFull: { status: 507, message: 'store full' },
  /** A command failed unexpectedly, or its thread died. */
  internal: { status: 500, message: 'internal error' },
  /** Admission control: past `--max-connections`. */
  maxConnections: { status: 503, message: 'max connections' },
  /** The per-connection model: past `--max-workers`. */
  maxWorkers: { status: 503, message: 'max workers' },
  /** Nothing received for `--idle-timeout`. (Over HTTP an idle keep-alive connection is closed without a word.) */
  idleTimeout: { status: 408, message: 'idle timeout' },
  /** A request line over `--max-line`. (Over HTTP the same limit is `contentTooLarge`.) */
  lineTooLong: { status: 413, message: 'line too long' },
  /** INCR of a value that is not a canonical 64-bit integer. */
  notAnInteger: { status: 400, message: 'value is not an integer' },
  /** INCR past 2^63 - 1. */
  incrementOverflow: { status: 400, message: 'increment would overflow' },
  /** A malformed request or argument; the message says which. */
  badRequest: { status: 400 },
  /** The write-ahead log cannot take the write (a failed write or fsync, or a closed log); the message says which. */
  logUnavailable: { status: 503 },
  /** A write whose log record would pass the log's record limit. */
  recordTooLarge: { status: 413 },
  /** `COMPACT` on a server without `--data-dir`: there is no log to compact. */
  noDataDir: { status: 409, message: 'no data directory: this server keeps its data in memory only' },
  /** `COMPACT` while a compaction runs already. */
  compactionBusy: { status: 409, message: 'a compaction is already running' },
  // HTTP only.
  /** No such route, or no such key. */
  notFound: { status: 404 },
  /** A known path with a method it does not take. */
  methodNotAllowed: { status: 405 },
  /** A body over `--max-line`. */
  contentTooLarge: { status: 413 },
  /** A request head over its bound. */
  headerTooLarge: { status: 431 },
  /** A transfer coding other than chunked. */
  notImplemented: { status: 501 },
  /** An HTTP version other than 1.x. */
  versionNotSupported: { status: 505 },
} as const satisfies Record<string, RefusalDefinition>;

export type RefusalKind = keyof typeof REFUSALS;
/** The kinds that always say the same thing. */
export type FixedRefusalKind = { [K in RefusalKind]: (typeof REFUSALS)[K] extends { message: string } ? K : never }[RefusalKind];
/** The kinds whose message is given where they are decided. */
export type WordedRefusalKind = Exclude<RefusalKind, FixedRefusalKind>;

export interface Refusal {
  readonly refusal: RefusalKind;
  /** What it says: `ERR <message>` on the line port, `{"error":"<message>"}` over HTTP. */
  readonly message: string;
}

export function refusal(kind: FixedRefusalKind): Refusal;
export function refusal(kind: WordedRefusalKind, message: string): Refusal;
export function refusal(kind: RefusalKind, message?: string): Refusal {
  const definition: RefusalDefinition = REFUSALS[kind];
  return { refusal: kind, message: message ?? definition.message ?? kind };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'refusal' in value;
}

/** The refusal as the line protocol says it, without the newline. */
export function lineText(refused: Refusal): string {
  return `ERR ${refused.message}`;
}

export function httpStatus(refused: Refusal): number {
  return REFUSALS[refused.refusal].status;
}
