/**
 * The board's first read of every run's metrics.jsonl, off the server's thread (a worker_threads Worker started by
 * BoardStore.loadAll): each file is scanned into columns and posted back by transfer with the tail's state, so the
 * server goes on tailing from where the worker stopped. The server checked each path before sending it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MetricsTail, scanMetricLines, type TailState } from '../run/layout.js';
import { RunPoints, type PointsMessage } from './points.js';

export interface LoadJob {
  key: number;
  path: string;
}

export type LoadReply = { key: number; state: TailState; points: PointsMessage } | { key: number; error: string };

const port = parentPort;
if (port) {
  for (const job of (workerData as { jobs: LoadJob[] }).jobs) {
    try {
      const tail = new MetricsTail(job.path);
      const points = new RunPoints();
      scanMetricLines(tail.pollBytes().bytes, points.add);
      const { message, transfer } = points.toMessage();
      port.postMessage({ key: job.key, state: tail.state(), points: message } satisfies LoadReply, transfer);
    } catch (e) {
      port.postMessage({ key: job.key, error: (e as Error).message } satisfies LoadReply);
    }
  }
}
