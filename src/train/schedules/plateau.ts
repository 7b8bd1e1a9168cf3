import { pick } from '../../registry.js';
import type { ScheduleKind } from './kind.js';
import { SCHEDULE_OPTIONS } from './options.js';

/**
 * PyTorch ReduceLROnPlateau (threshold 1e-4 relative, cooldown 0, eps 1e-8), stepped once per epoch on the
 * checkpoint's monitored metric (val_ with dataset.validation): the rate is multiplied by `factor`, never below
 * `min_lr`, after more than `patience` epochs without improvement. The rate reached is state the loop keeps in each
 * checkpoint (`plateauStep`), so a resumed run continues with it.
 */
export const plateau: ScheduleKind = {
  name: 'plateau',
  description: 'multiply by factor when the monitored metric stops improving for patience epochs',
  options: pick(SCHEDULE_OPTIONS, ['factor', 'patience', 'min_lr'], { factor: 0.1, patience: 10 }),
  rate: (_s, x) => x.metricRate ?? x.base,
};

export interface PlateauState {
  /** The learning rate now in effect. */
  lr: number;
  /** Best metric so far (null before the first epoch). */
  best: number | null;
  bad_epochs: number;
}

/** One epoch's step: the new state after seeing `value` of a metric to `mode`-imise. */
export function plateauStep(state: PlateauState, value: number, mode: 'min' | 'max', s: { factor: number; patience: number; min_lr: number }): PlateauState {
  const threshold = 1e-4;
  const better = state.best === null || (mode === 'min' ? value < state.best * (1 - threshold) : value > state.best * (1 + threshold));
  if (better) return { ...state, best: value, bad_epochs: 0 };
  const bad = state.bad_epochs + 1;
  if (bad <= s.patience) return { ...state, bad_epochs: bad };
  const lr = Math.max(state.lr * s.factor, s.min_lr);
  return { ...state, lr: state.lr - lr > 1e-8 ? lr : state.lr, bad_epochs: 0 };
}
