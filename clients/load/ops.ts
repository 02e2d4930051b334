// The requests a workload can make and the ways one can end.
//
// An operation is described independently of the wire format, so the same
// workload can drive a lab server or a Redis server; the dialect decides the
// bytes.

export type Op =
  | { kind: 'ping' }
  | { kind: 'echo'; payload: string }
  | { kind: 'set'; key: number; value: string }
  | { kind: 'get'; key: number }
  | { kind: 'work'; n: number }
  | { kind: 'sleep'; ms: number };

/** How a request ended. Everything but `ok` is an error kind of `ErrorCounts`. */
export type Outcome = 'ok' | 'errReply' | 'busy' | 'timeout' | 'refused' | 'reset' | 'wrongReply';

export type ErrorKind = Exclude<Outcome, 'ok'>;

/** The key as it goes on the wire. */
export function keyName(key: number): string {
  return `key:${key}`;
}
