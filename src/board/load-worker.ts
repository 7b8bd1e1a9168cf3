/**
 * The board's first read of every run's metrics.jsonl, off the server's thread (worker_threads Workers started by
 * BoardStore, given their runs by loadAll): each file is scanned into columns and posted back by transfer with the tail's state, so the
 * server goes on tailing from where the worker stopped. The server checked each path before sending it.
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { MetricsTail, scanMetricLines, type TailState } from '../run/layout.js';
import { RunPoints, type PointsMessage } from './points.js';

export interface LoadJob {
  key: number;
  path: string;
}

export type LoadReply = { key: number; state: TailState; points: PointsMessage } | { key: number; error: string };

// background work: the server's thread and the browser come first (on Linux a nice value is per thread, and
// os.setPriority without a pid sets this thread's)
try {
  setPriority(10);
} catch {
  // not allowed here: the default priority
}

// started before the server scans DIR (its start overlaps the scan); the jobs come in one message, and the server
// stops the worker once each has its answer
parentPort?.once('message', (jobs: LoadJob[]) => {
  for (const job of jobs) {
    try {
      const tail = new MetricsTail(job.path);
      const points = new RunPoints();
      scanMetricLines(tail.pollBytes().bytes, points.add);
      const { message, transfer } = points.toMessage();
      parentPort!.postMessage({ key: job.key, state: tail.state(), points: message } satisfies LoadReply, transfer);
    } catch (e) {
      parentPort!.postMessage({ key: job.key, error: (e as Error).message } satisfies LoadReply);
    }
  }
});
