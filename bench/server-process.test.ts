import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseListening, parseListeningAddresses, parseListeningLine, startServer, waitForPong } from './server-process.js';

const fake = fileURLToPath(new URL('./test-support/fake-server.mjs', import.meta.url));
const fakeServer = (...flags: string[]) => ({ command: process.execPath, args: [fake, ...flags] });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('parseListeningLine', () => {
  it('finds the host and port in the line every server prints first', () => {
    expect(parseListeningLine('listening on 127.0.0.1:40123 model=pool workers=2')).toEqual({ host: '127.0.0.1', port: 40123 });
  });

  it('finds the HTTP address beside the line port, or alone when the line protocol is off', () => {
    expect(parseListeningAddresses('listening on 127.0.0.1:7070 http=127.0.0.1:7080 model=async max-line=65536')).toEqual({
      line: { host: '127.0.0.1', port: 7070 },
      http: { host: '127.0.0.1', port: 7080 },
    });
    expect(parseListeningAddresses('listening on http=127.0.0.1:43359 model=blocking')).toEqual({
      line: null,
      http: { host: '127.0.0.1', port: 43359 },
    });
    expect(parseListeningLine('listening on http=127.0.0.1:43359 model=blocking')).toBeNull();
  });

  it('accepts a bracketed IPv6 host and rejects lines that are not an announcement', () => {
    expect(parseListeningLine('listening on [::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListeningLine('starting up')).toBeNull();
    expect(parseListeningLine('listening on 127.0.0.1:0')).toBeNull();
  });
});

describe('parseListening', () => {
  it('reads the settings after the addresses by flag name, whole numbers as numbers', () => {
    expect(parseListening('listening on 127.0.0.1:40123 model=pool workers=2 offload=heavy queue=1024 test-hooks=on')).toEqual({
      line: { host: '127.0.0.1', port: 40123 },
      http: null,
      settings: { model: 'pool', workers: 2, offload: 'heavy', queue: 1024, 'test-hooks': 'on' },
    });
    expect(parseListening('listening on http=127.0.0.1:43359 model=per-connection max-workers=264')?.settings).toEqual({
      model: 'per-connection',
      'max-workers': 264,
    });
    expect(parseListening('listening on nowhere model=pool')).toBeNull();
  });
});

describe('startServer and stop', () => {
  it('starts a server on the port it chose, answers PING, and stops it gracefully with SIGTERM', async () => {
    const server = await startServer(fakeServer());
    expect(server.port).toBeGreaterThan(0);
    expect(server.settings).toEqual({ model: 'fake' });
    await waitForPong(server.host, server.port!);
    const stop = await server.stop();
    expect(stop).toMatchObject({ code: 0, forced: false, exitedEarly: false });
    expect(alive(server.pid)).toBe(false);
  });

  it('kills a server that ignores SIGTERM once the grace period is over', async () => {
    const server = await startServer(fakeServer('--ignore-sigterm'));
    const stop = await server.stop(300);
    expect(stop).toMatchObject({ forced: true, signal: 'SIGKILL' });
    expect(alive(server.pid)).toBe(false);
  });

  it("reports a server that dies before listening, in the server's own words", async () => {
    await expect(startServer(fakeServer('--die-at-start'))).rejects.toThrow(/exited before listening.*refusing to start/s);
  });

  it('gives up on a server that never announces itself within the startup deadline', async () => {
    await expect(startServer(fakeServer('--silent'), { startupTimeoutMs: 500 })).rejects.toThrow(/no listening line within 500 ms/);
  });

  it('does not take a wrong reply to PING for readiness', async () => {
    const server = await startServer(fakeServer('--wrong-pong'));
    try {
      await expect(waitForPong(server.host, server.port!, 400)).rejects.toThrow(/PANG/);
    } finally {
      await server.stop();
    }
  });
});
