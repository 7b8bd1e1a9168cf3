/** The end of a sweep, wherever its members ran: the sweep's status from its members', and the ranked reports. */
import { writeManifest, type Manifest } from './manifest.js';
import { buildRows, formatTable, writeReports, type RankMetric } from './report.js';
import type { SweepResult } from './types.js';

export function finishSweep(sweepDir: string, manifest: Manifest, rankBy: RankMetric): SweepResult {
  const anyFailed = manifest.members.some((m) => m.status === 'failed');
  const unfinished = manifest.members.some((m) => m.status !== 'completed' && m.status !== 'failed');
  manifest.status = anyFailed ? 'failed' : unfinished ? 'interrupted' : 'completed';
  writeManifest(sweepDir, manifest);
  const rows = buildRows(sweepDir, manifest, rankBy);
  writeReports(sweepDir, manifest, rows, rankBy);
  const table = formatTable(rows, rankBy);
  const exitCode = anyFailed ? 1 : unfinished ? 130 : 0;
  return { status: manifest.status, exitCode, sweepDir, errors: [], rows, table, manifest };
}
