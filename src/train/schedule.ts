/** Learning rate at a global step: optional linear warmup, then constant, step decay or cosine annealing. */
import type { ResolvedExperiment } from '../config/index.js';

export function learningRate(exp: ResolvedExperiment, globalStep: number, stepsPerEpoch: number): number {
  const base = exp.optimizer.lr;
  const s = exp.schedule ?? { name: 'constant' };
  const warmupSteps = Math.round((s.warmup_epochs ?? 0) * stepsPerEpoch);
  if (globalStep < warmupSteps) return (base * (globalStep + 1)) / warmupSteps;
  const epoch = Math.floor(globalStep / stepsPerEpoch);
  switch (s.name) {
    case 'step':
      return base * Math.pow(s.gamma ?? 0.1, Math.floor(epoch / (s.step_size ?? 1)));
    case 'cosine': {
      const total = Math.max(1, exp.epochs * stepsPerEpoch - warmupSteps);
      const progress = Math.min(1, (globalStep - warmupSteps) / total);
      const min = s.min_lr ?? 0;
      return min + ((base - min) * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    default:
      return base;
  }
}
