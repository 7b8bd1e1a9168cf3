import type * as tfjs from '@tensorflow/tfjs';
import { pick } from '../../registry.js';
import type { OptimizerKind } from './kind.js';
import { OPTIMIZER_OPTIONS } from './options.js';

const fround = Math.fround;

/** RMSprop (centered: false): sq = α·sq + (1−α)·g²; u = g / (√sq + eps); with momentum buf = mu·buf + u. */
function rmspropUpdate(
  p: Float32Array, g: Float32Array, sq: Float32Array, buf: Float32Array | undefined, lr: number, wd: number,
  alpha: number, ia: number, eps: number, mu: number,
): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = wd ? fround(g[i]! + fround(p[i]! * wd)) : g[i]!;
    const s = fround(fround(sq[i]! * alpha) + fround(fround(gi * gi) * ia));
    sq[i] = s;
    let u = fround(gi / fround(fround(Math.sqrt(s)) + eps));
    if (buf) {
      u = fround(fround(buf[i]! * mu) + u);
      buf[i] = u;
    }
    p[i] = p[i]! - fround(u * lr);
  }
}

export const rmsprop: OptimizerKind = {
  name: 'rmsprop',
  description: 'RMSprop, not centered, with optional momentum and L2 weight decay (torch.optim.RMSprop; eps outside the square root).',
  options: pick(OPTIMIZER_OPTIONS, ['momentum', 'weight_decay', 'eps', 'alpha']),
  update(_tf: typeof tfjs, { c, lr }, p, grad, slot) {
    let g = grad;
    if (c.weight_decay) g = g.add(p.mul(c.weight_decay));
    const sq = slot('square_avg');
    sq.assign(sq.mul(c.alpha).add(g.square().mul(1 - c.alpha)));
    let update = g.div(sq.sqrt().add(c.eps));
    if (c.momentum) {
      const buf = slot('momentum');
      buf.assign(buf.mul(c.momentum).add(update));
      update = buf;
    }
    p.assign(p.sub(update.mul(lr)));
  },
  updateInPlace({ c, lr }, p, g, slot, native) {
    const r = fround;
    const mu = r(c.momentum);
    const sq = slot('square_avg');
    const buf = mu ? slot('momentum') : undefined;
    const scalars = [r(lr), r(c.weight_decay), r(c.alpha), r(1 - c.alpha), r(c.eps), mu] as const;
    if (native) native.rmspropUpdate(p, g, sq, buf ?? null, Float32Array.from(scalars));
    else rmspropUpdate(p, g, sq, buf, ...scalars);
  },
};
