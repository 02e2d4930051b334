// The thread that folds a log into a snapshot for `compactInBackground`, so
// that the reading, checking and writing happen off the caller's event loop.
// It touches only closed segments and the new snapshot, never the open log.

import { parentPort, workerData } from 'node:worker_threads';
import { SnapshotJob, writeSnapshot } from './compaction.js';

const job = workerData as SnapshotJob;
parentPort?.postMessage(writeSnapshot(job.dir, job.snapshotId, { maxRecordBytes: job.maxRecordBytes }));
