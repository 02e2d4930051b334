// Parsing: from one request line to a validated command.
//
// Every model parses with this one function, and every argument is checked
// here, before anything runs: a command that reaches execution is well formed.
// That keeps the models free of validation code, and lets the pool model
// answer a malformed request on the main thread without bothering a worker.
//
// The grammar is deliberately tiny: a command name, case-insensitive, then
// arguments separated by single spaces. ECHO and SET take "the rest of the
// line" as their last argument, spaces included, so values need no quoting.

export const MAX_KEY_BYTES = 250;
export const MAX_WORK = 10_000_000;
export const MAX_SLEEP_MS = 60_000;

export type Command =
  | { name: 'PING' }
  | { name: 'ECHO'; text: string }
  | { name: 'SET'; key: string; value: string }
  | { name: 'GET'; key: string }
  | { name: 'DEL'; key: string }
  | { name: 'INCR'; key: string }
  | { name: 'WORK'; rounds: number }
  | { name: 'SLEEP'; ms: number }
  | { name: 'STATS' }
  /** Folds the write-ahead log into a snapshot now; refused without a data directory. */
  | { name: 'COMPACT' }
  | { name: 'QUIT' }
  /** Fault injection for tests; refused unless the server runs with --test-hooks. */
  | { name: 'DEBUG'; fault: string };

export const DEBUG_FAULTS = ['CRASH', 'THROW'] as const;
export type DebugFault = (typeof DEBUG_FAULTS)[number];

export type CommandName = Command['name'];

/** A request the server refuses; its message becomes the `ERR <message>` reply. */
export class ProtocolError extends Error {}

export function parseRequest(line: string): Command {
  if (line.length === 0) throw new ProtocolError('empty request');
  const space = line.indexOf(' ');
  const name = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? undefined : line.slice(space + 1);
  switch (name) {
    case 'PING':
      return noArguments('PING', rest);
    case 'STATS':
      return noArguments('STATS', rest);
    case 'QUIT':
      return noArguments('QUIT', rest);
    case 'COMPACT':
      return noArguments('COMPACT', rest);
    case 'ECHO':
      return { name: 'ECHO', text: notEndingInCr('ECHO', rest ?? '') };
    case 'SET': {
      const [key, value] = keyAndRest('SET', rest);
      return { name: 'SET', key, value: notEndingInCr('SET', value) };
    }
    case 'GET':
      return { name: 'GET', key: singleKey('GET', rest) };
    case 'DEL':
      return { name: 'DEL', key: singleKey('DEL', rest) };
    case 'INCR':
      return { name: 'INCR', key: singleKey('INCR', rest) };
    case 'WORK':
      return { name: 'WORK', rounds: integerArgument('WORK', rest, MAX_WORK) };
    case 'SLEEP':
      return { name: 'SLEEP', ms: integerArgument('SLEEP', rest, MAX_SLEEP_MS) };
    case 'DEBUG':
      // Checked when executed: a server without --test-hooks must not reveal the hooks exist.
      return { name: 'DEBUG', fault: (rest ?? '').toUpperCase() };
    default:
      throw new ProtocolError(`unknown command '${printable(name)}'`);
  }
}

function noArguments<N extends 'PING' | 'STATS' | 'QUIT' | 'COMPACT'>(name: N, rest: string | undefined): { name: N } {
  if (rest !== undefined) throw wrongArity(name);
  return { name };
}

function singleKey(name: string, rest: string | undefined): string {
  if (rest === undefined || rest.includes(' ')) throw wrongArity(name);
  return validKey(rest);
}

function keyAndRest(name: string, rest: string | undefined): [string, string] {
  const space = rest === undefined ? -1 : rest.indexOf(' ');
  if (rest === undefined || space === -1) throw wrongArity(name);
  return [validKey(rest.slice(0, space)), rest.slice(space + 1)];
}

/**
 * The line protocol's replies end in `\n`, and readers (the lab's own client,
 * redis-cli, most line readers) drop a `\r` before it. A value ending in `\r`
 * would therefore read back one byte short: refuse it rather than store what
 * cannot be read back. (Over HTTP a body may end in `\r`: its length is sent.)
 */
function notEndingInCr(name: string, text: string): string {
  if (text.endsWith('\r')) throw new ProtocolError(`${name} value cannot end in CR (\\r)`);
  return text;
}

function validKey(key: string): string {
  if (key.length === 0) throw new ProtocolError('empty key');
  if (key.length > MAX_KEY_BYTES) throw new ProtocolError(`key longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

/** A whole decimal number from 0 to `max`: no sign, no fraction, no exponent. */
function integerArgument(name: string, rest: string | undefined, max: number): number {
  if (rest === undefined || rest.includes(' ')) throw wrongArity(name);
  if (!/^\d+$/.test(rest)) throw new ProtocolError(`${name} wants a whole number from 0 to ${max}`);
  const value = Number(rest);
  if (value > max) throw new ProtocolError(`${name} wants a whole number from 0 to ${max}`);
  return value;
}

function wrongArity(name: string): ProtocolError {
  return new ProtocolError(`wrong number of arguments for '${name}'`);
}

/** Keeps an error reply on one readable line whatever bytes the client sent. */
function printable(text: string): string {
  const shown = text.length > 32 ? `${text.slice(0, 32)}...` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}
