// HTTP routes: which lab command a method and a path stand for.
//
// The routes are a second spelling of the line protocol's commands, not new
// ones: each maps onto exactly one Command, and the command then runs as it
// does for a line client, in the same Session, on the same store.
//
//   GET    /ping            PING
//   POST   /echo            ECHO <body>
//   GET    /kv/:key         GET            (and HEAD)
//   PUT    /kv/:key         SET <body>
//   DELETE /kv/:key         DEL
//   POST   /kv/:key/incr    INCR
//   POST   /work/:n         WORK
//   POST   /sleep/:ms       SLEEP
//   GET    /stats           STATS          (and HEAD)
//   POST   /compact         COMPACT
//
// A path is matched first, then the method: a known path with the wrong
// method is refused with 405 and the methods it does take (for `Allow`), an
// unknown path with 404. Arguments in the path are checked here, as the line
// parser checks its own (commands.ts), so a command that leaves this file is
// well formed; a bad one is refused with 400. None of these refusals closes
// the connection, because the request's framing was sound.
//
// Keys in the path are percent-decoded to bytes; keys, values and bodies are
// binary strings (one char per byte), so any bytes survive the round trip,
// exactly as on the line port. A key is 1 to 250 bytes and, so that the line
// protocol can name it too, holds no space or control character.

import { Command, MAX_KEY_BYTES, MAX_SLEEP_MS, MAX_WORK } from './commands.js';
import { Refusal, refusal } from './refusals.js';

export type Routed =
  | { command: Command }
  /** `allow`, for 405: the methods the path does take. */
  | { refusal: Refusal; allow?: string };

/** A path argument that breaks its rule: thrown by the checks below, refused with 400 by `route`. */
class BadArgument {
  constructor(readonly message: string) {}
}

interface Route {
  /** The methods this path answers, for `Allow`. */
  allow: string;
  /** The command for this method, or undefined when the path does not take it; throws BadArgument on a bad one. */
  commandFor(method: string, params: string[], body: string): Command | undefined;
}

const ROUTES: [RegExp, Route][] = [
  [/^\/ping$/, { allow: 'GET, HEAD', commandFor: (m) => (isGet(m) ? { name: 'PING' } : undefined) }],
  [/^\/echo$/, { allow: 'POST', commandFor: (m, _, body) => (m === 'POST' ? { name: 'ECHO', text: body } : undefined) }],
  [/^\/stats$/, { allow: 'GET, HEAD', commandFor: (m) => (isGet(m) ? { name: 'STATS' } : undefined) }],
  [/^\/compact$/, { allow: 'POST', commandFor: (m) => (m === 'POST' ? { name: 'COMPACT' } : undefined) }],
  [
    /^\/kv\/([^/]*)$/,
    {
      allow: 'GET, HEAD, PUT, DELETE',
      commandFor(method, [raw], body) {
        if (isGet(method)) return { name: 'GET', key: keyOf(raw) };
        if (method === 'PUT') return { name: 'SET', key: keyOf(raw), value: body };
        if (method === 'DELETE') return { name: 'DEL', key: keyOf(raw) };
        return undefined;
      },
    },
  ],
  [/^\/kv\/([^/]*)\/incr$/, { allow: 'POST', commandFor: (m, [raw]) => (m === 'POST' ? { name: 'INCR', key: keyOf(raw) } : undefined) }],
  [
    /^\/work\/([^/]*)$/,
    { allow: 'POST', commandFor: (m, [raw]) => (m === 'POST' ? { name: 'WORK', rounds: wholeNumber('work', raw, MAX_WORK) } : undefined) },
  ],
  [
    /^\/sleep\/([^/]*)$/,
    { allow: 'POST', commandFor: (m, [raw]) => (m === 'POST' ? { name: 'SLEEP', ms: wholeNumber('sleep', raw, MAX_SLEEP_MS) } : undefined) },
  ],
];

/** The command a request stands for, or why it is refused. */
export function route(method: string, path: string, body: string): Routed {
  for (const [pattern, candidate] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    try {
      const command = candidate.commandFor(method, match.slice(1), body);
      if (command) return { command };
      return { refusal: refusal('methodNotAllowed', `${method} is not allowed here`), allow: candidate.allow };
    } catch (error) {
      if (!(error instanceof BadArgument)) throw error;
      return { refusal: refusal('badRequest', error.message) };
    }
  }
  return { refusal: refusal('notFound', 'no such route') };
}

function isGet(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** The key a path segment names: percent-decoded, then held to the line protocol's rules. */
function keyOf(raw: string): string {
  const key = percentDecode(raw);
  if (key.length === 0) throw new BadArgument('empty key');
  if (key.length > MAX_KEY_BYTES) throw new BadArgument(`key longer than ${MAX_KEY_BYTES} bytes`);
  // Control characters are exactly what this refuses.
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(key)) throw new BadArgument('a key may not hold spaces or control characters');
  return key;
}

/** `%XX` escapes to the bytes they stand for, as a binary string. */
function percentDecode(raw: string): string {
  if (!raw.includes('%')) return raw;
  return raw.replace(/%(..)?/gs, (_, hex: string | undefined) => {
    if (hex === undefined || !/^[0-9A-Fa-f]{2}$/.test(hex)) throw new BadArgument('malformed percent-encoding in the path');
    return String.fromCharCode(parseInt(hex, 16));
  });
}

function wholeNumber(what: string, raw: string, max: number): number {
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value <= max)) throw new BadArgument(`${what} wants a whole number from 0 to ${max}`);
  return value;
}
