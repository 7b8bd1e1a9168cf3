/** One loss, as the registry knows it: its options and its per-example value on logits. `tf` is passed in. */
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedLoss } from '../../config/types.js';
import type { Kind } from '../../registry.js';

export interface LossKind extends Kind {
  /** Per-example losses, shape [batch], inside the caller's tidy. `labels` are int32 class indices. */
  perExample(tf: typeof tfjs, loss: ResolvedLoss, logits: tfjs.Tensor2D, labels: tfjs.Tensor1D, classes: number): tfjs.Tensor1D;
}
