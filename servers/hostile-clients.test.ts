// Bad input and badly behaved clients. Redis and memcached set the bar: a
// clear error past every limit, bounded memory whatever a client does, and no
// harm to the other clients. Every model is held to it, as a real process.

import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { MODELS } from './config.js';
import { LineClient, pause, rawConnection, residentMiB, withServer } from './test-support/server-process.js';

describe.each(MODELS)('the %s model under bad input', (model) => {
  it('returns binary bytes, NUL and invalid UTF-8 unchanged through ECHO, SET and GET', async () => {
    await withServer(model, [], async (server) => {
      const client = await LineClient.connect(server.port);
      const bytes = '\x00\x01\xff\xfe\xc3\x28 \x80bin\x7f';
      client.write(`ECHO ${bytes}\nSET bin:${'\xff'} ${bytes}\nGET bin:${'\xff'}\n`);
      expect(await client.readLines(3)).toEqual([bytes, 'OK', `VALUE ${bytes}`]);
      client.close();
    });
  });

  it('accepts a line of exactly --max-line bytes and refuses one byte more, then closes', async () => {
    await withServer(model, ['--max-line=1024'], async (server) => {
      const atLimit = await LineClient.connect(server.port);
      atLimit.write(`ECHO ${'a'.repeat(1019)}\r\n`);
      expect(await atLimit.readLine()).toBe('a'.repeat(1019));
      atLimit.close();
      const overLimit = await LineClient.connect(server.port);
      overLimit.write(`ECHO ${'a'.repeat(1020)}\n`);
      expect(await overLimit.readLines(2)).toEqual(['ERR line too long', null]);
    });
  });

  it('refuses an endless line without a newline as soon as it passes --max-line', async () => {
    await withServer(model, ['--max-line=1024'], async (server) => {
      const client = await LineClient.connect(server.port);
      client.write('x'.repeat(5000));
      expect(await client.readLines(2)).toEqual(['ERR line too long', null]);
    });
  });

  it('assembles a request dribbled one byte at a time', async () => {
    await withServer(model, [], async (server) => {
      const client = await LineClient.connect(server.port);
      for (const byte of 'SET drip slowly\nGET drip\n') {
        client.write(byte);
        await pause(2);
      }
      expect(await client.readLines(2)).toEqual(['OK', 'VALUE slowly']);
      client.close();
    });
  });

  it('answers 100,000 requests pipelined in one write, each once and in order', async () => {
    await withServer(model, [], async (server) => {
      const client = await LineClient.connect(server.port);
      const count = 100_000;
      client.write(Array.from({ length: count }, (_, i) => (i % 2 ? `INCR flood\n` : `ECHO ${i}\n`)).join(''));
      const replies = await client.readLines(count);
      expect(replies.filter((reply, i) => reply !== (i % 2 ? `VALUE ${(i + 1) / 2}` : String(i)))).toEqual([]);
      client.close();
    });
  });

  it('answers exactly what the protocol says to malformed numbers, keys and commands', async () => {
    await withServer(model, [], async (server) => {
      const client = await LineClient.connect(server.port);
      const cases: [string, string][] = [
        ['', 'ERR empty request'],
        ['FLY', "ERR unknown command 'FLY'"],
        ['\x00\xff', "ERR unknown command '??'"],
        ['WORK -1', 'ERR WORK wants a whole number from 0 to 10000000'],
        ['WORK 1.5', 'ERR WORK wants a whole number from 0 to 10000000'],
        ['WORK 1e3', 'ERR WORK wants a whole number from 0 to 10000000'],
        ['WORK 99999999999999999999999', 'ERR WORK wants a whole number from 0 to 10000000'],
        ['SLEEP ten', 'ERR SLEEP wants a whole number from 0 to 60000'],
        ['SLEEP  5', "ERR wrong number of arguments for 'SLEEP'"],
        [`SET ${'k'.repeat(251)} v`, 'ERR key longer than 250 bytes'],
        [`SET ${'k'.repeat(250)} v`, 'OK'],
        ['INCR', "ERR wrong number of arguments for 'INCR'"],
        ['SET big 9223372036854775807', 'OK'],
        ['INCR big', 'ERR increment would overflow'],
        ['SET neg -5', 'OK'],
        ['INCR neg', 'VALUE -4'],
        ['SET frac 1.5', 'OK'],
        ['INCR frac', 'ERR value is not an integer'],
        ['SET padded 007', 'OK'],
        ['INCR padded', 'ERR value is not an integer'],
        ['SET minus-zero -0', 'OK'],
        ['INCR minus-zero', 'ERR value is not an integer'],
        // The line ends "\r\r\n": one CR ends the line, the other would end the value.
        ['SET cr v\r\r', 'ERR SET value cannot end in CR (\\r)'],
        ['GET cr', 'NIL'],
      ];
      client.write(cases.map(([request]) => `${request}\n`).join(''));
      expect(await client.readLines(cases.length)).toEqual(cases.map(([, reply]) => reply));
      client.close();
    });
  });
});

describe.each(['per-connection', 'pool', 'async'] as const)('the %s model with a flood on one connection', (model) => {
  it('keeps answering another connection promptly while one client pipelines 100,000 requests', async () => {
    await withServer(model, [], async (server) => {
      const flooder = await LineClient.connect(server.port);
      const bystander = await LineClient.connect(server.port);
      expect(await bystander.request('PING')).toBe('PONG');
      flooder.write('ECHO flood\n'.repeat(100_000));
      const worst = await slowestPing(bystander, 20);
      expect(worst).toBeLessThan(1000);
      expect((await flooder.readLines(100_000)).every((reply) => reply === 'flood')).toBe(true);
      flooder.close();
      bystander.close();
    });
  });
});

async function slowestPing(client: LineClient, times: number): Promise<number> {
  let worst = 0;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    expect(await client.request('PING')).toBe('PONG');
    worst = Math.max(worst, performance.now() - started);
    await pause(10);
  }
  return worst;
}

describe.each(MODELS)('the %s model with slow and misbehaving clients', (model) => {
  it('stops reading from a client that never reads its replies, keeping memory bounded, and loses no reply', async () => {
    // The pool runs ECHO inline here (--offload=heavy): a million one-at-a-time
    // hand-offs to a worker take a minute, and the flow control under test is the
    // same. The 'flood' test above covers the pool's hand-off path.
    const flags = model === 'pool' ? ['--offload=heavy'] : [];
    await withServer(model, ['--max-output=1048576', ...flags], async (server) => {
      const baseline = residentMiB(server.pid);
      const socket = await rawConnection(server.port);
      socket.pause();
      const total = 1_000_000;
      const request = `ECHO ${'x'.repeat(100)}\n`;
      const batch = 500;
      let sent = 0;
      // Phase 1: push without reading until the server stops taking bytes.
      let flowing = true;
      while (sent < total && flowing) {
        flowing = await writeOrStall(socket, request.repeat(batch), 1000);
        sent += batch;
      }
      const stalledAt = sent;
      const peak = residentMiB(server.pid);
      expect(stalledAt).toBeLessThan(total);
      expect(peak - baseline).toBeLessThan(120);
      // Phase 2: read everything while sending the rest; every request gets its reply.
      let received = 0;
      let leftover = '';
      socket.setEncoding('latin1');
      const allRead = new Promise<void>((resolve) =>
        socket.on('data', (text: string) => {
          const lines = (leftover + text).split('\n');
          leftover = lines.pop()!;
          received += lines.length;
          if (received >= total) resolve();
        }),
      );
      socket.resume();
      while (sent < total) {
        const chunk = Math.min(batch, total - sent);
        if (!socket.write(request.repeat(chunk))) await new Promise((resolve) => socket.once('drain', resolve));
        sent += chunk;
      }
      await allRead;
      expect(received).toBe(total);
      socket.destroy();
      console.info(`${model}: stopped reading after ${stalledAt} requests; RSS ${baseline.toFixed(0)} -> ${peak.toFixed(0)} MiB`);
    });
  }, 120_000);

  it('closes a connection that holds half a line past --idle-timeout, with a clear message', async () => {
    await withServer(model, ['--idle-timeout=300'], async (server) => {
      const client = await LineClient.connect(server.port);
      client.write('PIN');
      const started = performance.now();
      expect(await client.readLines(2)).toEqual(['ERR idle timeout', null]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    });
  });

  it('does not count a request in progress as idleness: a SLEEP longer than the idle timeout is answered', async () => {
    await withServer(model, ['--idle-timeout=300'], async (server) => {
      const client = await LineClient.connect(server.port);
      expect(await client.request('SLEEP 700')).toBe('OK');
      client.close();
    });
  });

  it('survives clients that reset mid-request and mid-reply, and keeps every acknowledged write', async () => {
    await withServer(model, [], async (server) => {
      const writer = await LineClient.connect(server.port);
      writer.send('SET kept:1 one', 'SET kept:2 two');
      expect(await writer.readLines(2)).toEqual(['OK', 'OK']);
      writer.close();
      const midRequest = await rawConnection(server.port);
      midRequest.write('SLEEP 100\nSET half');
      midRequest.resetAndDestroy();
      const midReply = await rawConnection(server.port);
      midReply.write(`SET big ${'v'.repeat(60_000)}\n` + 'GET big\n'.repeat(200));
      await pause(50);
      midReply.resetAndDestroy();
      const after = await LineClient.connect(server.port);
      after.send('GET kept:1', 'GET kept:2', 'PING');
      expect(await after.readLines(3)).toEqual(['VALUE one', 'VALUE two', 'PONG']);
      after.close();
    });
  });

  it('takes 1,000 connections opened at once: answers each, or (per-connection, past its worker cap) refuses it with ERR', async () => {
    // A thousand threads would be a thousand V8 isolates on two cores: the cap is the point.
    const workerCap = 50;
    await withServer(model, [`--max-workers=${workerCap}`], async (server) => {
      const clients = await Promise.all(Array.from({ length: 1000 }, () => LineClient.connect(server.port)));
      // The blocking model serves them one after another: each closes after its reply.
      // Generous: a hundred-odd thread starts on two cores take seconds.
      const replies = await Promise.all(clients.map((client, i) => client.request(`ECHO ${i}`, 60_000).finally(() => client.close())));
      const answered = replies.filter((reply, i) => reply === String(i)).length;
      const refused = replies.filter((reply) => reply === 'ERR max workers').length;
      if (model === 'per-connection') {
        expect(answered).toBeGreaterThanOrEqual(workerCap);
        expect(answered + refused).toBe(1000);
      } else {
        expect(answered).toBe(1000);
      }
      const after = await LineClient.connect(server.port);
      expect(await after.request('PING')).toBe('PONG');
      after.close();
    });
  }, 120_000);
});

describe('the per-connection model at its worker cap', () => {
  it('answers ERR max workers past --max-workers instead of starting more threads, and serves the rest', async () => {
    await withServer('per-connection', ['--max-workers=50'], async (server) => {
      const clients = await Promise.all(Array.from({ length: 200 }, () => LineClient.connect(server.port)));
      const replies = await Promise.all(clients.map((client) => client.request('PING')));
      expect(replies.filter((reply) => reply === 'PONG')).toHaveLength(50);
      expect(replies.filter((reply) => reply === 'ERR max workers')).toHaveLength(150);
      for (const client of clients) client.close();
      await expect
        .poll(async () => {
          const probe = await LineClient.connect(server.port);
          const stats = await probe.request('STATS');
          probe.close();
          return stats?.startsWith('{') ? JSON.parse(stats).workers : -1;
        })
        .toBe(1);
    });
  }, 60_000);
});

/** Writes; resolves false if the socket's buffer does not drain within `stallMs` (the peer stopped reading). */
function writeOrStall(socket: net.Socket, text: string, stallMs: number): Promise<boolean> {
  if (socket.write(text)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.off('drain', onDrain);
      resolve(false);
    }, stallMs);
    const onDrain = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('drain', onDrain);
  });
}
