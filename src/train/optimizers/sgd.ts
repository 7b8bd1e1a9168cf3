import type * as tfjs from '@tensorflow/tfjs';
import { pick } from '../../registry.js';
import type { OptimizerKind } from './kind.js';
import { OPTIMIZER_OPTIONS } from './options.js';

const fround = Math.fround;

/** SGD without momentum: g += wd·p (when wd); p -= lr·g. */
function sgdUpdate(p: Float32Array, g: Float32Array, lr: number, wd: number): void {
  const n = p.length;
  if (wd) for (let i = 0; i < n; i++) p[i] = p[i]! - fround(fround(g[i]! + fround(p[i]! * wd)) * lr);
  else for (let i = 0; i < n; i++) p[i] = p[i]! - fround(g[i]! * lr);
}

/** SGD with momentum (dampening 0): buf = g on the first step, else mu·buf + g; nesterov: g + mu·buf. */
function sgdMomentumUpdate(
  p: Float32Array, g: Float32Array, buf: Float32Array, lr: number, wd: number, mu: number, first: boolean, nesterov: boolean,
): void {
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = wd ? fround(g[i]! + fround(p[i]! * wd)) : g[i]!;
    const next = first ? gi : fround(fround(buf[i]! * mu) + gi);
    buf[i] = next;
    p[i] = p[i]! - fround((nesterov ? fround(gi + fround(next * mu)) : next) * lr);
  }
}

export const sgd: OptimizerKind = {
  name: 'sgd',
  description: 'Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay (torch.optim.SGD, dampening 0).',
  options: pick(OPTIMIZER_OPTIONS, ['momentum', 'nesterov', 'weight_decay']),
  check: (c) => (c.nesterov && c.momentum <= 0 ? [{ key: 'nesterov', message: 'nesterov needs momentum > 0' }] : []),
  update(_tf: typeof tfjs, { c, lr, t }, p, grad, slot) {
    let g = grad;
    if (c.weight_decay) g = g.add(p.mul(c.weight_decay));
    const mu = c.momentum;
    if (mu) {
      const buf = slot('momentum');
      // PyTorch: buf = g on the first step, then buf = mu*buf + g (dampening 0)
      const next = t === 1 ? g : buf.mul(mu).add(g);
      buf.assign(next);
      g = c.nesterov ? g.add(next.mul(mu)) : next;
    }
    p.assign(p.sub(g.mul(lr)));
  },
  updateInPlace({ c, lr, t }, p, g, slot, native) {
    const r = fround;
    const mu = r(c.momentum);
    const wd = r(c.weight_decay);
    const lr32 = r(lr);
    if (native) native.sgdUpdate(p, g, mu ? slot('momentum') : null, Float32Array.of(lr32, wd, mu, t === 1 ? 1 : 0, c.nesterov ? 1 : 0));
    else if (!mu) sgdUpdate(p, g, lr32, wd);
    else sgdMomentumUpdate(p, g, slot('momentum'), lr32, wd, mu, t === 1, c.nesterov);
  },
};
