/**
 * Running a sweep's members on this machine: up to `concurrency` at once (a child process each, or in this
 * process), each one's state kept in the manifest and its TensorBoard session records written around it.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_FILE_PREFIX, readSummary } from '../run/layout.js';
import { childProcess, inProcess, type Executor } from './executor.js';
import { writeSessionEnd, writeSessionStart } from './hparams.js';
import { epochLine, liveList, plainOutput } from './live-list.js';
import { writeManifest } from './manifest.js';
import type { OpenSweep } from './start.js';
import type { SweepOptions } from './types.js';

export async function runLocal(open: OpenSweep, opts: SweepOptions): Promise<void> {
  const { sweepDir, manifest, work } = open;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  const executor: Executor = opts.isolate === false ? inProcess : childProcess;
  const device = opts.device ?? (manifest.device as SweepOptions['device'] | null) ?? undefined;
  const save = () => writeManifest(sweepDir, manifest);
  const renderer = opts.renderer ?? 'auto';
  const prefix = plainOutput(renderer) && concurrency > 1;
  let failed = false;

  try {
    await liveList(
      manifest.members,
      work,
      async (w, line) => {
        if (stop.signal.aborted) return false;
        const member = w.member;
        const runDir = join(sweepDir, member.run_dir);
        const started = new Date();
        if (!w.resume) {
          rmSync(runDir, { recursive: true, force: true }); // a failed or unfinished member restarts in a clean directory
          mkdirSync(runDir, { recursive: true });
        }
        member.status = 'running';
        member.attempts += 1;
        member.started_at = started.toISOString();
        member.finished_at = null;
        member.error = null;
        save();
        if (!w.resume || !hasSessionStart(runDir)) safely(() => writeSessionStart(runDir, member.hparams, started));
        if (w.resume) line('resuming from its checkpoint');
        const job = { file: member.file, overrides: member.overrides, runDir, resume: w.resume, device, cwd: manifest.cwd };
        // A continued member is loaded from its file and overrides, as at its start: the checkpoint's config hash
        // then proves that the experiment is unchanged (runExperiment refuses to continue otherwise). Continuing
        // always runs in a fresh process: tfjs numbers variable names per process, and a checkpoint's optimizer
        // slots name the variables of its model as they were named where it was written.
        const outcome = await (w.resume ? childProcess : executor)(job, (m) => line(`${prefix ? `${member.label}: ` : ''}${epochLine(m)}`), stop.signal);
        const finished = new Date();
        member.finished_at = finished.toISOString();
        member.seconds = readSeconds(runDir) ?? (finished.getTime() - started.getTime()) / 1000;
        member.status = outcome.status === 'completed' ? 'completed' : outcome.status === 'interrupted' ? 'interrupted' : 'failed';
        member.error = member.status === 'failed' ? (outcome.error ?? 'failed') : null;
        save();
        safely(() => writeSessionEnd(runDir, member.status, finished));
        if (member.status === 'failed') {
          failed = true;
          if (opts.failFast) stop.abort();
        }
        return true;
      },
      { renderer, concurrency, sweepDir, notStarted: () => (failed && opts.failFast ? '--fail-fast' : 'interrupted') },
    );
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** The run's own total time (resumed runs add their earlier attempts), from its summary. */
export function readSeconds(runDir: string): number | null {
  const t = readSummary(runDir)?.durations?.total_s;
  return typeof t === 'number' ? t : null;
}

export function hasSessionStart(runDir: string): boolean {
  try {
    return readdirSync(runDir).some((f) => f.startsWith(EVENT_FILE_PREFIX));
  } catch {
    return false;
  }
}

/** TensorBoard records are a convenience: a failure to write them must not fail the member. */
export function safely(f: () => void): void {
  try {
    f();
  } catch {
    // ignored
  }
}
