// Servers for the load generator's tests, each its own process on a free port.
//
// `startLabServer` runs the project's real server (`dist/servers/serve.js`,
// built by `npm run build`, which `npm test` runs first) with the given model;
// `startFakeServer` runs the small fake next to this file, which misbehaves on
// purpose. Both start through the bench's startServer, the one launcher, so
// the listening line is read and the process stopped as in a real run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { startServer } from '../../../bench/server-process.js';
import { SERVE as serveScript } from '../../../servers/test-support/server-process.js';

export interface TestServer {
  port: number;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

const fakeScript = fileURLToPath(new URL('./fake-lab-server.mjs', import.meta.url));

/** Whether the real server has been built. */
export function realServerAvailable(): boolean {
  return existsSync(serveScript);
}

/** The real server with `--model=<model> --port 0`. */
export function startLabServer(model = 'async', extraArgs: string[] = []): Promise<TestServer> {
  return startProcess([serveScript, `--model=${model}`, '--port', '0', ...extraArgs]);
}

/** The fake server, e.g. with `--wrong-echo`. */
export function startFakeServer(flags: string[] = []): Promise<TestServer> {
  return startProcess([fakeScript, '--port', '0', ...flags]);
}

async function startProcess(args: string[]): Promise<TestServer> {
  const server = await startServer({ command: process.execPath, args });
  return {
    port: server.port!,
    pid: server.pid,
    process: server.child,
    stop: async () => void (await server.stop()),
  };
}
