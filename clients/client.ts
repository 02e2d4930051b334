// `npm run client`: talk to a lab server by hand, in the spirit of redis-cli.
//
// Three ways to use it:
//   - interactively: a prompt that sends each typed line and prints the reply,
//     with line editing and history (kept in ~/.server-pattern-lab_history);
//   - `--eval "SET a 1" --eval "GET a"`: send these, print the replies, exit;
//   - piped: `printf 'PING\nSTATS\n' | npm run client -- --port 7070`.
//
// The client waits for each reply before sending the next line, so what you
// see is a conversation. (To see pipelining, pipe many lines into `nc`, or use
// the load generator's `--pipeline`.)

import net from 'node:net';
import readline from 'node:readline';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

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

/** A connection that hands back one reply line per request, in order. */
class Conversation {
  private readonly pending: ((reply: string | null) => void)[] = [];
  private closed = false;

  constructor(private readonly socket: net.Socket) {
    readline.createInterface({ input: socket, crlfDelay: Infinity }).on('line', (line) => this.pending.shift()?.(line));
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.pending.splice(0)) waiter(null);
    });
  }

  static open(host: string, port: number): Promise<Conversation> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new Conversation(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one line and resolves with its reply, or null if the server closed the connection. */
  ask(line: string): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.end();
  }
}

async function runScript(conversation: Conversation, lines: AsyncIterable<string> | string[]): Promise<void> {
  for await (const line of lines) {
    const reply = await conversation.ask(line);
    if (reply === null) return console.error('(connection closed by server)');
    console.log(reply);
  }
}

async function runInteractive(conversation: Conversation, options: ClientOptions): Promise<void> {
  const history = existsSync(HISTORY_FILE) ? readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).reverse() : [];
  const prompt = readline.createInterface({ input: process.stdin, output: process.stdout, history, historySize: 1000 });
  prompt.setPrompt(`${options.host}:${options.port}> `);
  prompt.prompt();
  for await (const line of prompt) {
    if (line.trim() !== '') appendFileSync(HISTORY_FILE, `${line}\n`);
    const reply = await conversation.ask(line);
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
  const conversation = await Conversation.open(options.host, options.port).catch((error: NodeJS.ErrnoException) => {
    console.error(`error: cannot connect to ${options.host}:${options.port}: ${error.code ?? error.message}`);
    console.error('is a server running? start one with: npm run serve -- --model=async');
    process.exit(1);
  });
  if (options.eval.length > 0) await runScript(conversation, options.eval);
  else if (process.stdin.isTTY) await runInteractive(conversation, options);
  else await runScript(conversation, readline.createInterface({ input: process.stdin, crlfDelay: Infinity }));
  conversation.close();
}

void main();
