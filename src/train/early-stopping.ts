/**
 * Early stopping's state, one epoch at a time, and whether a run it stopped trains any more. No tfjs: the resume
 * planner (src/run/run-experiment.ts) asks before anything is loaded or written.
 */
import type { ResolvedExperiment } from '../config/index.js';
import type { TrainingState } from '../run/layout.js';

/**
 * One epoch of early stopping (Lightning/Keras semantics): an improvement is a value better than the best by more
 * than min_delta; after `patience` epochs without one the run stops, with the reason recorded.
 */
export function earlyStoppingStep(
  es: NonNullable<ResolvedExperiment['early_stopping']>,
  prev: TrainingState['early_stopping'],
  metrics: Record<string, number>,
  epoch: number,
): NonNullable<TrainingState['early_stopping']> {
  const value = metrics[es.monitor];
  if (value === undefined) throw new Error(`early_stopping.monitor ${es.monitor} is not computed by this run (${Object.keys(metrics).join(', ')})`);
  const min = es.monitor.endsWith('_loss');
  const s = prev ?? { best: null, best_epoch: 0, bad_epochs: 0 };
  if (s.best === null || (min ? value < s.best - es.min_delta : value > s.best + es.min_delta)) return { best: value, best_epoch: epoch, bad_epochs: 0 };
  const bad = s.bad_epochs + 1;
  if (bad < es.patience) return { ...s, bad_epochs: bad };
  const stopped = `early stopping after epoch ${epoch}: ${es.monitor} has not improved by more than ${es.min_delta} for ${bad} epochs (best ${s.best.toPrecision(5)} at epoch ${s.best_epoch})`;
  return { ...s, bad_epochs: bad, stopped };
}

/**
 * The reason a run stopped early, when resuming it with this config trains nothing more (its state is at an epoch
 * boundary and the patience now in effect is used up); undefined otherwise.
 */
export function stoppedForGood(exp: ResolvedExperiment, state: TrainingState): string | undefined {
  const es = state.early_stopping;
  if (!exp.early_stopping || !es?.stopped || state.batch_in_epoch !== 0) return undefined;
  return es.bad_epochs >= exp.early_stopping.patience ? es.stopped : undefined;
}
