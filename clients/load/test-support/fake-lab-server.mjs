// A deliberately small stand-in for a lab server, used by the load
// generator's tests: the lab protocol's PING, ECHO, SET, GET, WORK, SLEEP and
// QUIT (and a STATS with the connection count) on one event loop, nothing else. It exists so the generator can be
// tested against a server that misbehaves on purpose:
//   --wrong-echo   answers every ECHO with a corrupted payload.
// Usage: node fake-lab-server.mjs --port 0 [--wrong-echo]
// Prints `listening on 127.0.0.1:<port> model=fake` like the real `serve`.
import net from 'node:net';
import { createHash } from 'node:crypto';

const args = process.argv.slice(2);
const portIndex = args.indexOf('--port');
const port = portIndex === -1 ? 0 : Number(args[portIndex + 1]);
const wrongEcho = args.includes('--wrong-echo');
const store = new Map();
let connectionsTotal = 0;

function work(n) {
  let digest = createHash('sha256').update('lab').digest();
  for (let i = 0; i < n; i++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
}

/** Answer one line; returns a string or a promise of one (replies stay in order). */
function answer(line) {
  const space = line.indexOf(' ');
  const command = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : line.slice(space + 1);
  switch (command) {
    case 'PING':
      return 'PONG';
    case 'ECHO':
      return wrongEcho ? `${rest}!` : rest;
    case 'SET': {
      const at = rest.indexOf(' ');
      if (at <= 0) return 'ERR wrong number of arguments';
      store.set(rest.slice(0, at), rest.slice(at + 1));
      return 'OK';
    }
    case 'GET':
      return store.has(rest) ? `VALUE ${store.get(rest)}` : 'NIL';
    case 'WORK':
      return `VALUE ${work(Number(rest))}`;
    case 'SLEEP':
      return new Promise((resolve) => setTimeout(() => resolve('OK'), Number(rest)));
    case 'STATS':
      return JSON.stringify({ model: 'fake', connections: { total: connectionsTotal } });
    case 'QUIT':
      return 'BYE';
    default:
      return `ERR unknown command '${command}'`;
  }
}

const server = net.createServer((socket) => {
  connectionsTotal++;
  let buffered = '';
  let chain = Promise.resolve();
  socket.setEncoding('latin1');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      const reply = answer(line);
      chain = chain
        .then(() => reply)
        .then((text) => {
          if (!socket.destroyed) socket.write(`${text}\n`, 'latin1');
          if (text === 'BYE') socket.end();
        });
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${server.address().port} model=fake`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(() => process.exit(0), 120_000).unref(); // never outlive a test run by much
