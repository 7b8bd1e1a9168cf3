/**
 * Optimizers with PyTorch's exact update rules (torch.optim.SGD, Adam, AdamW, RMSprop), written on tf ops.
 * Our own rather than tf.train's: tfjs has no weight decay and no AdamW, places epsilon differently in RMSprop,
 * and does not expose its slots in a form we can checkpoint and restore exactly.
 *
 * On the JS-array backends ('tudui-native', 'cpu': tfjs's MathBackendCPU, every tensor a plain Float32Array) the
 * update runs in place instead: one loop per variable over the variable's and its slots' arrays, no tensors made.
 * It evaluates the same float32 operations in the same order as the tf-op path (each intermediate rounded with
 * Math.fround, scalars rounded to float32 as tf makes them), so both paths give bit-identical weights
 * (test/optimizers.test.ts). A variable whose array is shared with another tensor (after `assign`) is first given
 * its own copy, so the write can never show through another tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../config/index.js';
import { forgetArrayToken, loadNativeAddon, NATIVE_BACKEND_NAME } from '../backends/native.js';

type OptimizerConfig = ResolvedExperiment['optimizer'];

/** The parts of tfjs's MathBackendCPU (also behind 'tudui-native') the in-place update uses. */
interface JsArrayBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  refCount(dataId: object): number;
}

export interface OptimizerState {
  /** Number of steps taken (Adam's bias correction uses it). */
  steps: number;
  /** Slot tensors by name: `<slot>/<index of the variable among the model's trainable weights>`. */
  slots: tf.NamedTensorMap;
}

export class Optimizer {
  private steps = 0;
  private readonly slots = new Map<string, tf.Variable>();

  /** `inPlace: false` forces the tf-op path on every backend (tests compare the two). */
  constructor(readonly config: OptimizerConfig, private readonly opts: { inPlace?: boolean } = {}) {}

  /** Apply one update to `params` given their gradients, at learning rate `lr`. */
  step(params: tf.Variable[], grads: tf.Tensor[], lr: number): void {
    this.steps += 1;
    if (this.opts.inPlace !== false && this.stepInPlace(params, grads, lr)) return;
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

  /**
   * The in-place update on a JS-array backend; false (nothing touched) when the backend or a dtype does not allow
   * it. Mirrors `step`'s tf ops one for one: `r(x)` is float32 rounding, as every tf op's output has.
   */
  private stepInPlace(params: tf.Variable[], grads: tf.Tensor[], lr: number): boolean {
    const name = tf.getBackend();
    if (name !== 'tudui-native' && name !== 'cpu') return false;
    const backend = tf.backend() as unknown as JsArrayBackend;
    if (typeof backend.refCount !== 'function' || !backend.data?.get) return false;
    const arrays = (t: tf.Tensor): Float32Array | undefined => {
      if (t.dtype !== 'float32') return undefined;
      const v = backend.data.get(t.dataId)?.values;
      return v instanceof Float32Array ? v : undefined;
    };
    if (params.length !== grads.length) return false;
    for (let i = 0; i < params.length; i++) {
      const p = arrays(params[i]!), g = arrays(grads[i]!);
      if (!p || !g || p.length !== g.length) return false;
    }
    /** The variable's array, made private to it first if another tensor shares it; about to change in place. */
    const own = (v: tf.Variable): Float32Array => {
      if (backend.refCount(v.dataId) > 1) {
        const copy = tf.tensor(Float32Array.from(arrays(v)!), v.shape, 'float32');
        v.assign(copy);
        copy.dispose();
      }
      const a = arrays(v)!;
      forgetArrayToken(a);
      return a;
    };
    const r = Math.fround;
    const c = this.config;
    const t = this.steps;
    const wd = r(c.weight_decay ?? 0);
    const lr32 = r(lr);
    // On tudui-native the same loops run in the addon (threaded, vectorised, bit-identical).
    const nat = name === NATIVE_BACKEND_NAME ? loadNativeAddon() : undefined;
    const native = typeof nat === 'object' ? nat : undefined;
    params.forEach((param, idx) => {
      const g = arrays(grads[idx]!)!;
      switch (c.name) {
        case 'sgd': {
          const mu = r(c.momentum ?? 0);
          if (native) {
            const buf = mu ? own(this.slot('momentum', param, idx)) : null;
            native.sgdUpdate(own(param), g, buf, Float32Array.of(lr32, wd, mu, t === 1 ? 1 : 0, c.nesterov ? 1 : 0));
          } else if (!mu) sgdUpdate(own(param), g, lr32, wd);
          else sgdMomentumUpdate(own(param), g, own(this.slot('momentum', param, idx)), lr32, wd, mu, t === 1, !!c.nesterov);
          break;
        }
        case 'adam':
        case 'adamw': {
          const [b1, b2] = (c.betas ?? [0.9, 0.999]) as [number, number];
          const adamw = c.name === 'adamw';
          const m = own(this.slot('m', param, idx));
          const v = own(this.slot('v', param, idx));
          const scalars = [
            lr32, adamw ? 0 : wd, adamw ? r(1 - lr * (c.weight_decay ?? 0)) : 1,
            r(b1), r(b2), r(1 - b1), r(1 - b2), r(1 - Math.pow(b1, t)), r(1 - Math.pow(b2, t)), r(c.eps ?? 1e-8),
          ] as const;
          if (native) native.adamUpdate(own(param), g, m, v, Float32Array.from(scalars));
          else adamUpdate(own(param), g, m, v, ...scalars);
          break;
        }
        case 'rmsprop': {
          const mu = r(c.momentum ?? 0);
          const sq = own(this.slot('square_avg', param, idx));
          const buf = mu ? own(this.slot('momentum', param, idx)) : undefined;
          const scalars = [lr32, wd, r(c.alpha ?? 0.99), r(1 - (c.alpha ?? 0.99)), r(c.eps ?? 1e-8), mu] as const;
          if (native) native.rmspropUpdate(own(param), g, sq, buf ?? null, Float32Array.from(scalars));
          else rmspropUpdate(own(param), g, sq, buf, ...scalars);
          break;
        }
        default:
          throw new Error(`unknown optimizer ${(c as { name: string }).name}`);
      }
    });
    return true;
  }

  // Keyed by position, not by tfjs's variable names: those carry per-process counters (`kernel_3`), so a checkpoint
  // written by one process would not match the variables of another.
  private slot(kind: string, p: tf.Variable, index: number): tf.Variable {
    const key = `${kind}/${index}`;
    let v = this.slots.get(key);
    if (!v) {
      const name = `slot_${this.slots.size}_${kind}`;
      // In a tidy so the zeros tensor goes (the in-place path calls this outside one); variables survive tidies.
      v = tf.tidy(() => tf.variable(tf.zerosLike(p), false, name));
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

// ------------------------------------------------------------------------------------------------ in-place updates
// One small monomorphic function per rule, so V8 optimises each loop on its own (a single function with every rule
// inside measured several times slower). Scalars arrive rounded to float32; `fround` rounds each intermediate as the
// corresponding tf op's float32 output is rounded; the final store into the Float32Array rounds the last one.
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
