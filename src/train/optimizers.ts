/**
 * Optimizers with PyTorch's exact update rules (torch.optim.SGD, Adam, AdamW, RMSprop), written on tf ops.
 * Our own rather than tf.train's: tfjs has no weight decay and no AdamW, places epsilon differently in RMSprop,
 * and does not expose its slots in a form we can checkpoint and restore exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';

type OptimizerConfig = ResolvedExperiment['optimizer'];

export interface OptimizerState {
  /** Number of steps taken (Adam's bias correction uses it). */
  steps: number;
  /** Slot tensors by name: `<slot>/<index of the variable among the model's trainable weights>`. */
  slots: tf.NamedTensorMap;
}

export class Optimizer {
  private steps = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(readonly config: OptimizerConfig) {}

  /** Apply one update to `params` given their gradients, at learning rate `lr`. */
  step(params: tf.Variable[], grads: tf.Tensor[], lr: number): void {
    this.steps += 1;
    const c = this.config;
    const t = this.steps;
    tf.tidy(() => {
      params.forEach((p, i) => {
        let g = grads[i]!;
        const wd = c.weight_decay ?? 0;
        switch (c.name) {
          case 'sgd': {
            if (wd) g = g.add(p.mul(wd));
            const mu = c.momentum ?? 0;
            if (mu) {
              const buf = this.slot('momentum', p, i);
              // PyTorch: buf = g on the first step, then buf = mu*buf + g (dampening 0)
              const next = t === 1 ? g : buf.mul(mu).add(g);
              buf.assign(next);
              g = c.nesterov ? g.add(next.mul(mu)) : next;
            }
            p.assign(p.sub(g.mul(lr)));
            break;
          }
          case 'adam':
          case 'adamw': {
            const [b1, b2] = (c.betas ?? [0.9, 0.999]) as [number, number];
            const eps = c.eps ?? 1e-8;
            let base: tf.Tensor = p;
            if (c.name === 'adamw') base = p.mul(1 - lr * wd);
            else if (wd) g = g.add(p.mul(wd));
            const m = this.slot('m', p, i);
            const v = this.slot('v', p, i);
            m.assign(m.mul(b1).add(g.mul(1 - b1)));
            v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
            const mHat = m.div(1 - Math.pow(b1, t));
            const denom = v.div(1 - Math.pow(b2, t)).sqrt().add(eps);
            p.assign(base.sub(mHat.div(denom).mul(lr)));
            break;
          }
          case 'rmsprop': {
            const alpha = c.alpha ?? 0.99;
            const eps = c.eps ?? 1e-8;
            if (wd) g = g.add(p.mul(wd));
            const sq = this.slot('square_avg', p, i);
            sq.assign(sq.mul(alpha).add(g.square().mul(1 - alpha)));
            let update = g.div(sq.sqrt().add(eps));
            const mu = c.momentum ?? 0;
            if (mu) {
              const buf = this.slot('momentum', p, i);
              buf.assign(buf.mul(mu).add(update));
              update = buf;
            }
            p.assign(p.sub(update.mul(lr)));
            break;
          }
          default:
            throw new Error(`unknown optimizer ${(c as { name: string }).name}`);
        }
      });
    });
  }

  // Keyed by position, not by tfjs's variable names: those carry per-process counters (`kernel_3`), so a checkpoint
  // written by one process would not match the variables of another.
  private slot(kind: string, p: tf.Variable, index: number): tf.Variable {
    const key = `${kind}/${index}`;
    let v = this.slots.get(key);
    if (!v) {
      v = tf.variable(tf.zerosLike(p), false, `slot_${this.slots.size}_${kind}`);
      this.slots.set(key, v);
    }
    return v;
  }

  getState(): OptimizerState {
    const slots: tf.NamedTensorMap = {};
    for (const [k, v] of this.slots) slots[k] = v;
    return { steps: this.steps, slots };
  }

  /** Restore slots saved by `getState`. */
  setState(state: OptimizerState, params: tf.Variable[]): void {
    this.steps = state.steps;
    for (const [key, value] of Object.entries(state.slots)) {
      const [kind, index] = key.split('/');
      const p = params[Number(index)];
      if (!p || !tf.util.arraysEqual(p.shape, value.shape)) throw new Error(`optimizer slot ${key} ${JSON.stringify(value.shape)} matches no model variable`);
      this.slot(kind!, p, Number(index)).assign(value);
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
