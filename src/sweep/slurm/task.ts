/**
 * One array task of a Slurm sweep, in the task's own process (the batch script `exec`s it): run member
 * `SLURM_ARRAY_TASK_ID` in its run directory, fresh or from its checkpoint, and record the result there.
 *
 * Signals: USR1 (Slurm's pre-timeout signal, `--signal=B:USR1@grace`, or `scancel --batch --signal=USR1`) stops the
 * run the way Ctrl-C does — it checkpoints — and then the task requeues itself (`scontrol requeue`); the requeued
 * task (`SLURM_RESTART_COUNT` > 0) continues from that checkpoint. INT and TERM (the coordinator's Ctrl-C, scancel)
 * checkpoint without requeueing.
 */
import type { Device } from '../../config/devices.js';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { runPaths } from '../../run/layout.js';
import { recordCrash } from '../executor.js';
import { writeSessionEnd, writeSessionStart } from '../hparams.js';
import { hasSessionStart, readSeconds, safely } from '../local.js';
import { readManifest } from '../manifest.js';
import { taskLog } from './options.js';
import { slurmManifest, writeTaskRecord, type TaskRecord } from './record.js';
import { requeue } from './scheduler.js';

export interface TaskOptions {
  /** Where the run's own lines go (the task's log). */
  out?: { write(s: string): unknown; isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** Runs this process's array task; the exit status for the batch script (0 completed or requeued). */
export async function runSlurmTask(sweepDirArg: string, opts: TaskOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const sweepDir = resolve(sweepDirArg);
  const index = Number(env.SLURM_ARRAY_TASK_ID);
  if (!Number.isInteger(index)) throw new UserError('--slurm-task runs inside a Slurm array task (SLURM_ARRAY_TASK_ID is not set); it is started by tudui sweep --launcher slurm');
  const manifest = slurmManifest(readManifest(sweepDir));
  const member = manifest.members[index];
  if (!member) throw new UserError(`${sweepDir}: the sweep has no member ${index} (it has ${manifest.members.length})`);
  const runDir = join(sweepDir, member.run_dir);
  const restarts = Number(env.SLURM_RESTART_COUNT ?? 0) || 0;
  const arrayJob = env.SLURM_ARRAY_JOB_ID ?? member.slurm?.job_id ?? '';
  const jobId = env.SLURM_JOB_ID ?? arrayJob;

  // A requeued task continues from its checkpoint when it has one; a first start does what the submission decided.
  const checkpoint = existsSync(runPaths(runDir).last);
  const resume = checkpoint && (restarts > 0 || member.slurm?.resume === true);
  if (!resume) {
    rmSync(runDir, { recursive: true, force: true }); // a fresh start (also after a failure) is a clean directory
    mkdirSync(runDir, { recursive: true });
  }
  const started = new Date();
  const record: TaskRecord = {
    array_job_id: arrayJob,
    job_id: jobId,
    task: index,
    restart_count: restarts,
    host: hostname(),
    pid: process.pid,
    log: taskLog(sweepDir, index, 'out'),
    started_at: started.toISOString(),
    finished_at: null,
    status: 'running',
    exit_code: null,
    seconds: null,
    error: null,
  };
  writeTaskRecord(runDir, record);
  if (!resume || !hasSessionStart(runDir)) safely(() => writeSessionStart(runDir, member.hparams, started));
  const out = opts.out ?? process.stdout;
  out.write(`tudui: member ${index} (${member.label}) on ${record.host}, job ${jobId}${restarts ? `, restart ${restarts}` : ''}: ${resume ? 'continuing from its checkpoint' : 'starting'}\n`);

  const controller = new AbortController();
  let requeueAsked = false;
  const onUsr1 = () => {
    requeueAsked = true;
    out.write('tudui: SIGUSR1 (time limit near or pre-emption): checkpointing, then requeueing\n');
    controller.abort();
  };
  const onStop = (sig: NodeJS.Signals) => {
    out.write(`tudui: ${sig}: checkpointing and stopping\n`);
    controller.abort();
  };
  process.on('SIGUSR1', onUsr1);
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);

  let status: TaskRecord['status'];
  let error: string | null = null;
  try {
    const { runExperiment } = await import('../../run/run-experiment.js');
    const o = await runExperiment(member.file, {
      overrides: member.overrides,
      runDir,
      resume,
      ...(manifest.device ? { device: manifest.device as Device } : {}),
      cwd: manifest.cwd,
      out,
      signal: controller.signal,
    });
    status = o.status === 'completed' ? 'completed' : o.status === 'interrupted' ? 'interrupted' : 'failed';
    if (status === 'failed') error = o.error ?? o.status;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    recordCrash(runDir, error, (e as Error)?.stack ?? '');
    status = 'failed';
  } finally {
    process.off('SIGUSR1', onUsr1);
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
  }

  if (status === 'interrupted' && requeueAsked) {
    writeTaskRecord(runDir, { ...record, status: 'requeued' });
    const refused = requeue(jobId);
    if (!refused) {
      out.write(`tudui: requeued job ${jobId}\n`);
      return 0;
    }
    error = `Slurm did not requeue the task: ${refused}; continue with: tudui sweep --resume ${sweepDir}`;
    out.write(`tudui: error: ${error}\n`);
  }
  const finished = new Date();
  const exitCode = status === 'completed' ? 0 : status === 'interrupted' ? 130 : 1;
  writeTaskRecord(runDir, { ...record, status, finished_at: finished.toISOString(), exit_code: exitCode, seconds: readSeconds(runDir), error });
  safely(() => writeSessionEnd(runDir, status, finished));
  return exitCode;
}
