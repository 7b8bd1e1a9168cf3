import type * as tfjs from '@tensorflow/tfjs';
import { pick } from '../../registry.js';
import type { OptimizerKind } from './kind.js';
import { OPTIMIZER_OPTIONS } from './options.js';

const fround = Math.fround;

/** Adam / AdamW (`decay` = 1 − lr·wd for AdamW, else 1; `wd` only for Adam's L2 term). */
function adamUpdate(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, wd: number, decay: number,
  b1: number, b2: number, ib1: number, ib2: number, bc1: number, bc2: number, eps: number,
): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    const base = decay !== 1 ? fround(pi * decay) : pi;
    const gi = wd ? fround(g[i]! + fround(pi * wd)) : g[i]!;
    const mi = fround(fround(m[i]! * b1) + fround(gi * ib1));
    const vi = fround(fround(v[i]! * b2) + fround(fround(gi * gi) * ib2));
    m[i] = mi;
    v[i] = vi;
    const denom = fround(fround(Math.sqrt(fround(vi / bc2))) + eps);
    p[i] = base - fround(fround(fround(mi / bc1) / denom) * lr);
  }
}

/** The Adam rule; `decoupled`: AdamW's weight decay (p ← p·(1 − lr·wd)) instead of Adam's L2 term on the gradient. */
export function adamRule(decoupled: boolean): Pick<OptimizerKind, 'update' | 'updateInPlace'> {
  return {
    update(_tf: typeof tfjs, { c, lr, t }, p, grad, slot) {
      let g = grad;
      const [b1, b2] = c.betas as [number, number];
      const wd = c.weight_decay;
      let base: tfjs.Tensor = p;
      if (decoupled) base = p.mul(1 - lr * wd);
      else if (wd) g = g.add(p.mul(wd));
      const m = slot('m');
      const v = slot('v');
      m.assign(m.mul(b1).add(g.mul(1 - b1)));
      v.assign(v.mul(b2).add(g.square().mul(1 - b2)));
      const mHat = m.div(1 - Math.pow(b1, t));
      const denom = v.div(1 - Math.pow(b2, t)).sqrt().add(c.eps);
      p.assign(base.sub(mHat.div(denom).mul(lr)));
    },
    updateInPlace({ c, lr, t }, p, g, slot, native) {
      const r = fround;
      const [b1, b2] = c.betas as [number, number];
      const m = slot('m');
      const v = slot('v');
      const scalars = [
        r(lr), decoupled ? 0 : r(c.weight_decay), decoupled ? r(1 - lr * c.weight_decay) : 1,
        r(b1), r(b2), r(1 - b1), r(1 - b2), r(1 - Math.pow(b1, t)), r(1 - Math.pow(b2, t)), r(c.eps),
      ] as const;
      if (native) native.adamUpdate(p, g, m, v, Float32Array.from(scalars));
      else adamUpdate(p, g, m, v, ...scalars);
    },
  };
}

export const adam: OptimizerKind = {
  name: 'adam',
  description: 'Adam with optional L2 weight decay added to the gradient (torch.optim.Adam).',
  options: pick(OPTIMIZER_OPTIONS, ['weight_decay', 'betas', 'eps']),
  ...adamRule(false),
};
