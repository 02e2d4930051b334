// The floor: the least a Node event loop can do to speak this protocol.
//
// The async model (models/async.ts) is one event loop too, but it carries
// everything a server owes its clients: a codec that enforces --max-line, a
// session that keeps order across SLEEPs and pool tasks, flow control, idle
// timeouts, counters every thread can read, and a store in shared memory
// behind a lock. This file carries none of it. It answers PING, ECHO, GET and
// SET from a Map, with one write per chunk of input, and nothing else: no
// limits (a client can make it buffer without bound), no STATS, no error
// replies beyond the bare minimum, no shared store.
//
// That makes it the physical limit of the async design in Node on this
// machine: the cost of libuv reading a socket, V8 splitting a string and
// writing one back. Whatever the async model reaches below it is the price of
// being a real server, and the suite charts every model against it so that
// the price is visible. It is a measuring stick, not a server to deploy.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

/** Answers one request line. */
function answer(line: string, store: Map<string, string>): string {
  const space = line.indexOf(' ');
  const name = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : line.slice(space + 1);
  switch (name) {
    case 'PING':
      return 'PONG';
    case 'ECHO':
      return rest;
    case 'GET': {
      const value = store.get(rest);
      return value === undefined ? 'NIL' : `VALUE ${value}`;
    }
    case 'SET': {
      const split = rest.indexOf(' ');
      if (split <= 0) return 'ERR wrong number of arguments';
      store.set(rest.slice(0, split), rest.slice(split + 1));
      return 'OK';
    }
    default:
      return 'ERR the floor answers only PING, ECHO, GET and SET';
  }
}

/** Serves one connection: whole lines in, one write of all their replies out. */
function serve(socket: net.Socket, store: Map<string, string>): void {
  let pending = '';
  socket.setNoDelay(true);
  socket.setEncoding('latin1');
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    let replies = '';
    for (const line of lines) replies += `${answer(line.endsWith('\r') ? line.slice(0, -1) : line, store)}\n`;
    if (replies !== '') socket.write(replies, 'latin1');
  });
}

export function startFloor(port: number, host: string): Promise<net.Server> {
  const store = new Map<string, string>();
  const server = net.createServer((socket) => serve(socket, store));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const args = await yargs(hideBin(process.argv))
    .scriptName('npm run floor --')
    .usage('$0 [--port P] [--host H]\n\nThe least server a Node event loop can be for PING, ECHO, GET and SET: a measuring stick.')
    .option('port', { type: 'number', default: 7071 })
    .option('host', { type: 'string', default: '127.0.0.1' })
    .strict()
    .fail((message, error) => {
      process.stderr.write(`floor: ${message ?? error?.message}\n`);
      process.exit(2);
    })
    .parseAsync();
  const server = await startFloor(args.port, args.host).catch((error: NodeJS.ErrnoException) => {
    process.stderr.write(`floor: cannot listen on ${args.host}:${args.port}: ${error.code ?? error.message}\n`);
    process.exit(1);
  });
  const { address, port } = server.address() as net.AddressInfo;
  // Nothing to drain or save: the floor keeps no promise past the reply it wrote.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  // Only now: whoever reads this line may signal at once.
  console.log(`listening on ${address}:${port} model=floor`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) void main();
