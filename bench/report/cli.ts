// `npm run report -- results/<run-id>`: rebuild a run's REPORT.md and report.html.
//
// With --measure-costs, Node's costs are measured now, on this machine, for a
// run whose results.json holds none; the report labels them as measured at
// report time, because they describe this machine today, not the run's.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { measureNodeCosts } from '../costs/index.js';
import { writeReport, ResultsError } from './index.js';

class UsageError extends Error {}

async function main(): Promise<number> {
  let target: string;
  let measureCosts: boolean;
  try {
    const args = yargs(hideBin(process.argv))
      .scriptName('npm run report --')
      .usage("$0 <run directory or results.json> [--measure-costs]\n\nWrite REPORT.md and report.html beside a run's results.json.")
      .option('measure-costs', { type: 'boolean', default: false, describe: "measure Node's costs now if the run recorded none" })
      .strictOptions()
      .help()
      .version(false)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseSync();
    if (args.help) return 0;
    if (args._.length !== 1)
      throw new UsageError(args._.length === 0 ? 'which run? give its directory, e.g. results/latest' : `one run at a time (got ${args._.length})`);
    target = String(args._[0]);
    measureCosts = args['measure-costs'];
  } catch (err) {
    process.stderr.write(`report: ${(err as Error).message}\nusage: npm run report -- results/<run-id> [--measure-costs]\n`);
    return 2;
  }
  try {
    const costsNow = measureCosts ? await measureNodeCosts() : undefined;
    const written = writeReport(target, { costsNow });
    process.stdout.write(`wrote ${written.markdown}\nwrote ${written.html}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`report: ${(err as Error).message}\n`);
    return err instanceof ResultsError ? 2 : 1;
  }
}

main().then((code) => process.exit(code));
