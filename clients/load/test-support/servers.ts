// Servers for the load generator's tests, each its own process on a free port.
//
// `startLabServer` runs the project's real server (`dist/servers/serve.js`,
// built by `npm run build`) with the given model. Until that exists it falls
// back to the small fake next to this file, so the generator can be developed
// and tested on its own; `kind` says which one answered.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface TestServer {
  port: number;
  pid: number;
  kind: 'serve' | 'fake';
  process: ChildProcess;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serveScript = fileURLToPath(new URL('../../../dist/servers/serve.js', import.meta.url));
const fakeScript = fileURLToPath(new URL('./fake-lab-server.mjs', import.meta.url));

export function realServerAvailable(): boolean {
  return existsSync(serveScript);
}

/** The real server with `--model=<model> --port 0`, or the fake when it is not built yet. */
export function startLabServer(model = 'async', extraArgs: string[] = []): Promise<TestServer> {
  if (realServerAvailable()) {
    return startProcess('serve', [serveScript, `--model=${model}`, '--port', '0', ...extraArgs]);
  }
  return startFakeServer();
}

/** The fake server, e.g. with `--wrong-echo`. */
export function startFakeServer(flags: string[] = []): Promise<TestServer> {
  return startProcess('fake', [fakeScript, '--port', '0', ...flags]);
}

function startProcess(kind: TestServer['kind'], args: string[]): Promise<TestServer> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} server did not say "listening" within 10 s: ${stderr}`));
    }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const match = /listening on [^\s:]+:(\d+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        port: Number(match[1]),
        pid: child.pid!,
        kind,
        process: child,
        stop: () => stopProcess(child),
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited (code ${code}) before listening: ${stderr}`));
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    // A stopped process must be continued before it can act on SIGTERM.
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  });
}
