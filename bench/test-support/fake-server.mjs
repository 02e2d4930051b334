// A deliberately misbehaving stand-in for `serve`, for testing how the suite
// starts, pings and stops servers. It speaks just enough of the lab protocol
// (PING, ECHO, QUIT) and can be told to misbehave in the ways a real server
// might: never announce itself, die at startup, or ignore SIGTERM.
//
// Plain JavaScript on purpose: it runs as its own process without a build.
//
//   node fake-server.mjs [--silent] [--die-at-start] [--ignore-sigterm] [--wrong-pong]

import net from 'node:net';

const flags = new Set(process.argv.slice(2));

if (flags.has('--die-at-start')) {
  process.stderr.write('fake server: refusing to start, as asked\n');
  process.exit(3);
}

const server = net.createServer((socket) => {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      const [command] = line.split(' ', 1);
      switch (command.toUpperCase()) {
        case 'PING':
          socket.write(flags.has('--wrong-pong') ? 'PANG\n' : 'PONG\n');
          break;
        case 'ECHO':
          socket.write(line.slice(5) + '\n');
          break;
        case 'QUIT':
          socket.end('BYE\n');
          return;
        default:
          socket.write(`ERR unknown command '${command}'\n`);
      }
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  if (!flags.has('--silent')) process.stdout.write(`listening on 127.0.0.1:${port} model=fake\n`);
});

process.on('SIGTERM', () => {
  if (flags.has('--ignore-sigterm')) return;
  server.close(() => process.exit(0));
  // Idle connections would hold close() open forever; a fake need not be patient.
  setTimeout(() => process.exit(0), 200).unref();
});
