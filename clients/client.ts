// `npm run client`: talk to a lab server by hand, in the spirit of redis-cli.
//
// Three ways to use it:
//   - interactively: a prompt that sends each typed line and prints the reply,
//     with line editing and history (kept in ~/.server-pattern-lab_history);
//   - `--eval "SET a 1" --eval "GET a"`: send these, print the replies, exit;
//   - piped: `printf 'PING\nSTATS\n' | npm run client -- --port 7070`.
//
// The client waits for each reply before sending the next line (and as long
// as the reply takes: a SLEEP is waited out), so what you see is a
// conversation. (To see pipelining, pipe many lines into `nc`, or use
// the load generator's `--pipeline`.)

import readline from 'node:readline';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { LineClient } from './line-client.js';

const HISTORY_FILE = join(homedir(), '.server-pattern-lab_history');

interface ClientOptions {
  host: string;
  port: number;
  eval: string[];
}

function parseArguments(argv: string[]): ClientOptions {
  const args = yargs(argv)
    .scriptName('npm run client --')
    .usage('$0 [--host H] [--port P] [--eval "COMMAND" ...]\n\nSends lab protocol commands to a server and prints the replies.')
    .option('host', { type: 'string', default: '127.0.0.1' })
    .option('port', { type: 'number', default: 7070 })
    .option('eval', { type: 'string', array: true, default: [] as string[], describe: 'a command to send (repeatable); then exit' })
    .check((a) => {
      if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new Error(`--port must be 1..65535, got ${a.port}`);
      return true;
    })
    .strict()
    .version(false)
    .fail((message, error) => {
      console.error(`error: ${message ?? error?.message}`);
      process.exit(2);
    })
    .parseSync();
  return { host: args.host, port: args.port, eval: args.eval.map(String) };
}

async function runScript(client: LineClient, lines: AsyncIterable<string> | string[]): Promise<void> {
  for await (const line of lines) {
    const reply = await client.request(line, Infinity);
    if (reply === null) return console.error('(connection closed by server)');
    console.log(reply);
  }
}

async function runInteractive(client: LineClient, options: ClientOptions): Promise<void> {
  const history = existsSync(HISTORY_FILE) ? readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).reverse() : [];
  const prompt = readline.createInterface({ input: process.stdin, output: process.stdout, history, historySize: 1000 });
  prompt.setPrompt(`${options.host}:${options.port}> `);
  prompt.prompt();
  for await (const line of prompt) {
    if (line.trim() !== '') appendFileSync(HISTORY_FILE, `${line}\n`);
    const reply = await client.request(line, Infinity);
    if (reply === null) {
      console.log('(connection closed by server)');
      break;
    }
    console.log(reply);
    if (/^quit$/i.test(line.trim())) break;
    prompt.prompt();
  }
  prompt.close();
}

async function main(): Promise<void> {
  const options = parseArguments(hideBin(process.argv));
  const client = await LineClient.connect(options.port, options.host, { encoding: 'utf8' }).catch((error: NodeJS.ErrnoException) => {
    console.error(`error: cannot connect to ${options.host}:${options.port}: ${error.code ?? error.message}`);
    console.error('is a server running? start one with: npm run serve -- --model=async');
    process.exit(1);
  });
  if (options.eval.length > 0) await runScript(client, options.eval);
  else if (process.stdin.isTTY) await runInteractive(client, options);
  else await runScript(client, readline.createInterface({ input: process.stdin, crlfDelay: Infinity }));
  client.socket.end();
}

void main();
