// A load thread: one driver running its share of the connections.
//
// One JavaScript thread can only parse so many replies per second; past that
// the generator, not the server, would set the throughput. With `--threads`
// the connections are spread over worker threads, each with its own event
// loop and its own histogram. The worker prepares (digests, key sampler),
// says it is ready, waits for the shared timetable, runs, and sends back its
// report with histograms in HDR's compact encoding for the main thread to add.
import { parentPort, workerData } from 'node:worker_threads';
import { Driver } from './driver.js';
import type { DriverSetup, RunClock } from './driver-report.js';
import { serializeReport } from './report-transfer.js';

if (!parentPort) throw new Error('thread-worker must run as a worker thread');
const port = parentPort;
const driver = new Driver(workerData as DriverSetup);
port.once('message', (clock: RunClock) => {
  driver.run(clock).then(
    (report) => port.postMessage({ type: 'done', report: serializeReport(report) }),
    (error: unknown) => port.postMessage({ type: 'failed', message: String(error) }),
  );
});
void driver.prepare().then(() => port.postMessage({ type: 'ready' }));
