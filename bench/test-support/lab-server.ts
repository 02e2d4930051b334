// Real server models for the bench's tests, started as the suite starts them.
//
// The tests that need a server (the HTTP load runner, the STATS sampler) run
// the compiled one from dist/ (`npm test` builds it first), with the flags a
// cell of that transport would give it, through the suite's own startServer,
// so they exercise the same start, readiness check and stop as a real run.

import { serverFlags } from '../cell-setup.js';
import { makeCell, type Model, type Transport } from '../matrix.js';
import { startServer, waitForHttpPing, type ServerHandle } from '../server-process.js';
import { SERVE } from '../../servers/test-support/server-process.js';

export { SERVE };

/** A fresh server of `model`, as a cell over `transport` starts it: on loopback, on ports of its own choosing. */
export function startLabServer(model: Model, transport: Transport = 'line'): Promise<ServerHandle> {
  const flags = serverFlags(makeCell(model, 'echo', 1, { kind: 'closed' }, transport));
  return startServer({ command: process.execPath, args: [SERVE, ...flags] });
}

/** Runs `body` against a fresh server serving HTTP only, once it answers GET /ping, and always stops it after. */
export async function withHttpServer<T>(model: Model, body: (url: string) => Promise<T>): Promise<T> {
  const server = await startLabServer(model, 'http');
  try {
    await waitForHttpPing(server.http!.host, server.http!.port);
    return await body(`http://127.0.0.1:${server.http!.port}`);
  } finally {
    await server.stop();
  }
}
