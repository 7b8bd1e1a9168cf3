/**
 * The training loop, as one function to read top to bottom: data, model, optimizer, then per epoch
 * train → evaluate → log → checkpoint. Everything the run directory holds is written from here.
 */
import * as tf from '@tensorflow/tfjs';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedExperiment } from '../config/index.js';
import { batches, batchOptionsFor, expandRoot, loadDataset, type ImageSplit, type DatasetInfo } from '../data/index.js';
import { buildModel, formatSummary, summarize } from '../model/compile.js';
import { inferenceMetadata, loadCheckpoint, markBest, pruneCheckpoints, readCheckpointWeights, saveCheckpoint, type TrainingState } from '../run/checkpoint.js';
import { packageVersion } from '../version.js';
import { setTraining } from '../run/phase.js';
import { appendMetric } from '../run/metrics.js';
import { runPaths, CHECKPOINTS_DIR, METRICS_FILE, readMetrics, TAGS, type EpochMetrics, type MetricPoint, type RunStatus } from '../run/layout.js';
import { EventWriter } from '../tensorboard/index.js';
import { UserError } from '../errors.js';
import { evaluateSplit } from './evaluate.js';
import { perExampleLoss } from './loss.js';
import { Optimizer } from './optimizers.js';
import { learningRate } from './schedule.js';
import { plateauStep } from './schedules/plateau.js';
import { clipGradNorm } from './clip.js';
import { earlyStoppingStep, stoppedForGood } from './early-stopping.js';
import type { Progress } from './progress.js';

export interface TrainOptions {
  experiment: ResolvedExperiment;
  runDir: string;
  backend: string;
  configHash: string;
  progress: Progress;
  log: (line: string) => void;
  /** Aborted on Ctrl-C: the loop stops after the current step, checkpoints and returns 'interrupted'. */
  signal?: AbortSignal;
  /** Continue from this checkpoint directory (`tudui resume`). */
  resumeFrom?: string;
  /** Called after every epoch (live sweep table). */
  onEpoch?: (e: EpochMetrics) => void;
  /**
   * Called once the data is loaded and the model restored, before the loop writes anything to the run directory:
   * everything that can fail a resume has been checked by then.
   */
  onStart?: (state: TrainingState) => void;
  /** TensorBoard text `config` to record when training starts (undefined: none). */
  configText?: string;
  cwd?: string;
}

/** One epoch's numbers, as `summary.json`'s history keeps them (the type is the run directory's: layout.ts). */
export type { EpochMetrics };

export interface TrainResult {
  status: Extract<RunStatus, 'completed' | 'interrupted' | 'diverged'>;
  /** Why it did not complete, one line. */
  reason?: string;
  /** Where a run that did not complete stopped. */
  stoppedAt?: { epoch: number; global_step: number };
  skippedBatches: number;
  epochs: EpochMetrics[];
  best: TrainingState['best'];
  globalStep: number;
  dataset: { source: string; train: number; test: number; info: DatasetInfo };
  lastCheckpoint?: string;
  parameters: number;
  /** With dataset.validation: the test split, evaluated once at the end on the best checkpoint. */
  test?: { loss: number; accuracy: number; epoch: number; checkpoint: string };
}

/** The words for what is left after a run stops early: only checkpoints that exist. */
function keptCheckpoint(name: string | undefined): string {
  return name ? `the last good checkpoint (${name}) is kept` : 'no checkpoint had been written yet';
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const exp = opts.experiment;
  const { log } = opts;
  const checkpointsDir = join(opts.runDir, CHECKPOINTS_DIR);
  const metricsPath = join(opts.runDir, METRICS_FILE);

  const interruptedEarly = (where: string): TrainResult => ({
    status: 'interrupted',
    reason: `interrupted ${where}, before training started`,
    stoppedAt: { epoch: 0, global_step: 0 },
    skippedBatches: 0,
    epochs: [],
    best: null,
    globalStep: 0,
    dataset: { source: '', train: 0, test: 0, info: { height: 0, width: 0, channels: 0, classes: 0, classNames: [], maxValue: 0 } },
    parameters: 0,
  });
  if (opts.signal?.aborted) return interruptedEarly('while starting');

  // --- Data: bytes in memory, normalised per batch ---------------------------------------------------------------
  // Ctrl-C while a large dataset is still decoding stops at once: the loading is abandoned, nothing is trained.
  const data = await untilAborted(loadDataset(exp.dataset, { cwd: opts.cwd, log, seed: exp.seed, ...(opts.signal ? { signal: opts.signal } : {}) }), opts.signal);
  if (data === undefined) return interruptedEarly('while loading the dataset');
  const { info } = data;
  const inputShape = [info.height, info.width, info.channels];
  const classes = info.classes;
  const batchSize = exp.dataset.batch_size;
  const stepsPerEpoch = exp.dataset.drop_last ? Math.floor(data.train.count / batchSize) : Math.ceil(data.train.count / batchSize);
  if (stepsPerEpoch === 0) throw new UserError(`dataset.batch_size ${batchSize} is larger than the ${data.train.count} training examples with drop_last: true`);

  // --- Model and optimizer (fresh, or restored from a checkpoint) -------------------------------------------------
  const rows = summarize(exp, inputShape);
  log(formatSummary(rows, inputShape));
  const parameters = rows.reduce((s, r) => s + r.parameters, 0);
  let model: tf.LayersModel;
  const optimizer = new Optimizer(exp.optimizer);
  let state: TrainingState = {
    epoch: 0,
    batch_in_epoch: 0,
    global_step: 0,
    best: null,
    config_hash: opts.configHash,
    backend: opts.backend,
    metrics: {},
    skipped_batches: 0,
    consecutive_skips: 0,
    time: new Date().toISOString(),
  };
  if (opts.resumeFrom) {
    // Rebuild from the config and load the saved weights, rather than deserialising the topology: the config is the
    // source of truth, and layers such as SeededDropout only exist in their built form.
    const ckpt = await loadCheckpoint(opts.resumeFrom);
    model = buildModel(tf, exp, inputShape);
    const shapes = model.weights.map((w) => w.shape.join('x')).join(',');
    if (shapes !== ckpt.weights.map((w) => w.shape.join('x')).join(',')) {
      const name = readLinkName(opts.resumeFrom);
      throw new UserError(`checkpoint ${join(checkpointsDir, name ?? '')} does not match the model of this config (weight shapes differ); nothing was changed`);
    }
    model.setWeights(ckpt.weights);
    tf.dispose(ckpt.weights);
    state = { skipped_batches: 0, consecutive_skips: 0, ...ckpt.state, backend: opts.backend, config_hash: opts.configHash };
    optimizer.setState(ckpt.optimizer, trainableVariables(model));
    tf.dispose(Object.values(ckpt.optimizer.slots));
    log(`resuming from ${opts.resumeFrom}: epoch ${state.epoch}, batch ${state.batch_in_epoch}, global step ${state.global_step}`);
  } else {
    model = buildModel(tf, exp, inputShape);
  }
  const params = trainableVariables(model);
  if (opts.signal?.aborted) {
    model.dispose();
    optimizer.dispose();
    return interruptedEarly('while loading the dataset');
  }
  const resumedAt = opts.resumeFrom ? opts.resumeFrom.split('/').pop() : undefined;
  // Nothing left to train (all epochs done, or stopped early for good): the run directory is not touched.
  const stoppedEarly = stoppedForGood(exp, state);
  const doneAlready = (state.epoch >= exp.epochs && state.batch_in_epoch === 0) || stoppedEarly !== undefined;
  opts.onStart?.(state);
  // With a validation split, every per-epoch decision (best checkpoint, early stopping, plateau) reads it, never test.
  const evalSplit = data.val ?? data.test;
  const evalName = data.val ? 'val' : 'test';
  const testSplit = data.test;
  // Asked for: the test split each epoch too, for its curve only (nothing is chosen on it).
  const testEveryEpoch = Boolean(data.val && exp.dataset.validation?.test_every_epoch);
  const monitor = data.val ? exp.checkpoint.monitor.replace(/^test_/, 'val_') : exp.checkpoint.monitor;
  const lowerIsBetter = (metric: string) => metric.endsWith('_loss');
  const better = (a: number, b: number) => (lowerIsBetter(monitor) ? a < b : a > b);
  const schedule = exp.schedule as ResolvedExperiment['schedule'] & { factor?: number; patience?: number };

  // --- TensorBoard and metrics -------------------------------------------------------------------------------------
  // Points are held back until the checkpoint that covers them is on disk, then written to the event file and
  // metrics.jsonl. So logs never run ahead of the last checkpoint: a resumed run continues them without duplicates.
  const events = doneAlready ? undefined : EventWriter.open(opts.runDir);
  let pending: MetricPoint[] = [];
  const record = (tag: string, value: number, step: number, epoch: number) => {
    pending.push({ tag, value, step, epoch, wall_time: Date.now() / 1000 });
  };
  const commit = (points: MetricPoint[]) => {
    if (events) {
      for (const p of points) events.scalar(p.tag, p.value, p.step, p.wall_time);
      events.flush();
    }
    for (const p of points) appendMetric(metricsPath, p);
  };
  if (opts.resumeFrom) {
    // A crash between the checkpoint and its log lines: write the ones the checkpoint carries but the log lacks.
    const logged = new Set(readMetrics(metricsPath).map((p) => `${p.tag}@${p.step}`));
    commit((state.pending ?? []).filter((p) => !logged.has(`${p.tag}@${p.step}`)));
  }
  if (opts.configText !== undefined) events?.text('config', opts.configText, state.global_step);
  // Each checkpoint says how to feed its model (src/infer, `tudui predict`, plain tfjs): shapes, scaling, classes.
  const inference = inferenceMetadata(exp, info, { root: expandRoot(exp.dataset.root, opts.cwd), source: data.source }, opts.configHash, packageVersion());
  const checkpoint = async (s: TrainingState): Promise<string> => {
    const dir = await saveCheckpoint(checkpointsDir, model, optimizer.getState(), { ...s, pending }, inference);
    commit(pending);
    pending = [];
    return dir;
  };

  const history: EpochMetrics[] = [];
  let lastCheckpoint: string | undefined;
  let lastName = opts.resumeFrom ? readLinkName(opts.resumeFrom) : undefined;
  const result = (status: TrainResult['status'], reason?: string, at?: { epoch: number; global_step: number }): TrainResult => ({
    status,
    ...(reason ? { reason } : {}),
    ...(status !== 'completed' ? { stoppedAt: at ?? { epoch: state.epoch, global_step: state.global_step } } : {}),
    skippedBatches: state.skipped_batches ?? 0,
    epochs: history,
    best: state.best,
    globalStep: state.global_step,
    dataset: { source: data.source, train: data.train.count, test: data.test.count, info },
    lastCheckpoint,
    parameters,
  });
  // The end of a completed run: with a validation split, the test split is evaluated once, on the best checkpoint.
  async function finish(reason?: string): Promise<TrainResult> {
    const done = result('completed', reason);
    if (evalName === 'test') return done;
    const paths = runPaths(opts.runDir);
    const chosen = exp.checkpoint.keep_best && state.best ? paths.best : paths.last;
    const weights = readCheckpointWeights(chosen);
    model.setWeights(weights);
    tf.dispose(weights);
    const { loss, accuracy } = await evaluateSplit(model, exp, testSplit, info);
    const name = readLinkName(chosen) ?? '';
    const epoch = Number(/^epoch-(\d+)/.exec(name)?.[1] ?? state.epoch);
    const wall = Date.now() / 1000;
    // (with test_every_epoch the log already has this checkpoint's test point)
    if (!testEveryEpoch) {
      commit([
        { tag: TAGS.testLoss, value: loss, step: epoch, epoch, wall_time: wall },
        { tag: TAGS.testAccuracy, value: accuracy, step: epoch, epoch, wall_time: wall },
      ]);
    }
    log(`test split (once, on ${name}): test_loss ${loss.toFixed(4)}  test_accuracy ${(accuracy * 100).toFixed(2)}%`);
    return { ...done, test: { loss, accuracy, epoch, checkpoint: name } };
  }
  setTraining(true);
  try {
    // A run that stopped early is complete (its test split already evaluated): resuming it trains nothing more,
    // unless the config now in effect allows more patience.
    if (stoppedEarly) return result('completed', stoppedEarly);
    for (let epoch = state.epoch + 1; epoch <= exp.epochs; epoch++) {
      // --- Train one epoch ----------------------------------------------------------------------------------------
      const startBatch = state.batch_in_epoch;
      opts.progress.epochStart(epoch, exp.epochs, stepsPerEpoch);
      const t0 = performance.now();
      // A mid-epoch resume continues the epoch's running sums, so its epoch metrics equal an uninterrupted run's.
      let lossSum = state.partial?.loss_sum ?? 0;
      let lossCount = state.partial?.count ?? 0;
      let images = 0;
      let lr = learningRate(exp, state.global_step, stepsPerEpoch, state.plateau?.lr);
      let interrupted = false;
      let skippedThisEpoch = 0;
      for (const batch of batches(data.train, info, batchOptionsFor(exp.dataset, 'train', exp.seed, epoch, startBatch))) {
        lr = learningRate(exp, state.global_step, stepsPerEpoch, state.plateau?.lr);
        const loss = await trainStep(model, params, optimizer, exp, batch, inputShape, classes, lr, state.global_step);
        state.global_step += 1;
        state.batch_in_epoch = batch.index + 1;
        if (!Number.isFinite(loss)) {
          const at = { epoch, global_step: state.global_step };
          if (exp.on_nan === 'skip') {
            state.skipped_batches = (state.skipped_batches ?? 0) + 1;
            state.consecutive_skips = (state.consecutive_skips ?? 0) + 1;
            skippedThisEpoch += 1;
            if (skippedThisEpoch === 1) log(`warning: loss ${loss} at step ${state.global_step}; batch skipped (on_nan: skip; further skips this epoch are counted, not printed)`);
            if (state.consecutive_skips >= exp.on_nan_patience) {
              const reason = `loss was not finite for ${state.consecutive_skips} batches in a row (on_nan_patience ${exp.on_nan_patience}), last at step ${state.global_step} (epoch ${epoch}); gave up with ${state.skipped_batches} batches skipped; ${keptCheckpoint(lastName)}`;
              return result('diverged', reason, at);
            }
            continue;
          }
          return result('diverged', `loss became ${loss} at step ${state.global_step} (epoch ${epoch}); the run was stopped and ${keptCheckpoint(lastName)}`, at);
        }
        state.consecutive_skips = 0;
        lossSum += loss * batch.size;
        lossCount += batch.size;
        images += batch.size;
        if (state.global_step % exp.log.train_loss_every === 0) {
          record(TAGS.trainLoss, loss, state.global_step, epoch);
          record(TAGS.lr, lr, state.global_step, epoch);
        }
        opts.progress.step(state.batch_in_epoch, loss, images / ((performance.now() - t0) / 1000));
        // Let signal handlers and timers run: without this, a synchronous epoch would ignore Ctrl-C.
        if (state.global_step % 8 === 0) await new Promise((r) => setImmediate(r));
        if (opts.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      if (skippedThisEpoch > 1) log(`warning: ${skippedThisEpoch} batches skipped in epoch ${epoch} (on_nan: skip), ${state.skipped_batches} in all`);

      if (interrupted && state.batch_in_epoch < stepsPerEpoch) {
        // Mid-epoch: save where we are so `tudui resume` continues with the next batch of the same order.
        state = { ...state, epoch: epoch - 1, partial: { loss_sum: lossSum, count: lossCount }, time: new Date().toISOString() };
        lastCheckpoint = await checkpoint(state);
        return result('interrupted', `interrupted in epoch ${epoch} at step ${state.global_step}; checkpoint ${lastCheckpoint.split('/').pop()} written`);
      }

      // --- Evaluate ------------------------------------------------------------------------------------------------
      opts.progress.evaluating();
      const e0 = performance.now();
      const { loss: testLoss, accuracy: testAccuracy } = await evaluateSplit(model, exp, evalSplit, info);
      const everyTest = testEveryEpoch ? await evaluateSplit(model, exp, testSplit, info) : undefined;
      const evalSeconds = (performance.now() - e0) / 1000;
      if (!Number.isFinite(testLoss)) {
        // A model whose test loss is not finite is not a result: stop before it becomes a checkpoint or "best".
        return result('diverged', `${evalName} loss became ${testLoss} after epoch ${epoch} (step ${state.global_step}${state.skipped_batches ? `, ${state.skipped_batches} batches skipped` : ''}); ${keptCheckpoint(lastName)}`, { epoch, global_step: state.global_step });
      }

      // --- Log -----------------------------------------------------------------------------------------------------
      const m: EpochMetrics = {
        epoch,
        global_step: state.global_step,
        train_loss: lossCount ? lossSum / lossCount : NaN,
        [`${evalName}_loss`]: testLoss,
        [`${evalName}_accuracy`]: testAccuracy,
        ...(everyTest ? { test_loss: everyTest.loss, test_accuracy: everyTest.accuracy } : {}),
        lr,
        train_images_per_sec: images / trainSeconds,
        eval_images_per_sec: evalSplit.count / evalSeconds,
        seconds: trainSeconds + evalSeconds,
        tensors: tf.memory().numTensors,
      };
      record(data.val ? TAGS.valLoss : TAGS.testLoss, testLoss, epoch, epoch);
      record(data.val ? TAGS.valAccuracy : TAGS.testAccuracy, testAccuracy, epoch, epoch);
      if (everyTest) {
        record(TAGS.testLoss, everyTest.loss, epoch, epoch);
        record(TAGS.testAccuracy, everyTest.accuracy, epoch, epoch);
      }
      record(TAGS.trainLossEpoch, m.train_loss, epoch, epoch);
      record(TAGS.throughput, m.train_images_per_sec, epoch, epoch);
      history.push(m);
      opts.progress.epochEnd({
        epoch,
        epochs: exp.epochs,
        trainLoss: m.train_loss,
        testLoss,
        testAccuracy,
        split: evalName,
        trainImagesPerSec: m.train_images_per_sec,
        evalImagesPerSec: m.eval_images_per_sec,
        seconds: m.seconds,
        lr,
      });

      // --- Checkpoint --------------------------------------------------------------------------------------------
      const epochMetrics: Record<string, number> = { [`${evalName}_loss`]: testLoss, [`${evalName}_accuracy`]: testAccuracy, train_loss: m.train_loss };
      const value = epochMetrics[monitor]!;
      const isBest = state.best === null || better(value, state.best.value);
      // The plateau schedule and early stopping step once per epoch; their state goes into the checkpoint.
      const plateau = schedule.name === 'plateau'
        ? plateauStep(state.plateau ?? { lr: exp.optimizer.lr, best: null, bad_epochs: 0 }, value, lowerIsBetter(monitor) ? 'min' : 'max', { factor: schedule.factor!, patience: schedule.patience!, min_lr: schedule.min_lr })
        : undefined;
      const earlyStopping = exp.early_stopping ? earlyStoppingStep(exp.early_stopping, state.early_stopping, epochMetrics, epoch) : undefined;
      state = {
        ...state,
        epoch,
        batch_in_epoch: 0,
        best: isBest ? { metric: monitor, value, epoch } : state.best,
        metrics: epochMetrics,
        partial: null,
        ...(plateau ? { plateau } : {}),
        ...(earlyStopping ? { early_stopping: earlyStopping } : {}),
        time: new Date().toISOString(),
      };
      lastCheckpoint = await checkpoint(state);
      lastName = lastCheckpoint.split('/').pop();
      if (isBest && exp.checkpoint.keep_best) markBest(checkpointsDir, lastCheckpoint);
      pruneCheckpoints(checkpointsDir, exp.checkpoint.keep_last);
      opts.onEpoch?.(m);
      if (interrupted || opts.signal?.aborted) return result('interrupted', `interrupted after epoch ${epoch}; checkpoint ${lastName} written`);
      if (earlyStopping?.stopped) {
        log(earlyStopping.stopped);
        return await finish(earlyStopping.stopped);
      }
    }
    return await finish();
  } finally {
    setTraining(false);
    events?.close();
    optimizer.dispose();
    model.dispose();
  }
}

/** The checkpoint directory a path names (following `last`). */
function readLinkName(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return path.split('/').pop();
  }
}

/** `p`, or undefined as soon as `signal` aborts (the work behind `p` is abandoned). */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return undefined;
  }
  let onAbort!: () => void;
  const aborted = new Promise<undefined>((res) => {
    onAbort = () => res(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const r = await Promise.race([p, aborted]);
    if (r === undefined) p.catch(() => {});
    return r;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The variables tf.layers keeps behind each trainable weight. */
function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * One optimisation step; returns the batch's mean loss (read back, so NaN can be caught before the update).
 * Reads are async: WebGPU in Node cannot read tensors synchronously. Exported for `npm run bench`, which times
 * exactly this step.
 */
export async function trainStep(
  model: tf.LayersModel,
  params: tf.Variable[],
  optimizer: Optimizer,
  exp: ResolvedExperiment,
  batch: { x: Float32Array; y: Int32Array; size: number },
  inputShape: number[],
  classes: number,
  lr: number,
  /** The global step: random layers derive this step's masks from it (SeededDropout). */
  step = 0,
): Promise<number> {
  const x = tf.tensor4d(batch.x, [batch.size, inputShape[0]!, inputShape[1]!, inputShape[2]!]);
  const y = tf.tensor1d(batch.y, 'int32');
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true, step }) as tf.Tensor2D;
      return perExampleLoss(exp.loss, logits, y, classes).mean() as tf.Scalar;
    }, params);
    const loss = (await value.data())[0]!;
    // A non-finite loss never reaches the weights: the caller skips the batch or stops with them intact.
    if (Number.isFinite(loss)) {
      const g = params.map((p) => grads[p.name]!);
      const clipped = exp.optimizer.clip_grad_norm ? clipGradNorm(g, exp.optimizer.clip_grad_norm) : g;
      optimizer.step(params, clipped, lr);
      if (clipped !== g) tf.dispose(clipped);
    }
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  } finally {
    tf.dispose([x, y]);
  }
}
