/**
 * Optimizers with PyTorch's exact update rules (torch.optim.SGD, Adam, AdamW, RMSprop; one file each under
 * src/train/optimizers/, see optimizer-registry.ts); this class keeps the step count and the slots and picks the path.
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
import { isJsArrayBackend } from '../backends/js-array-backends.js';
import { forgetArrayToken, loadNativeAddon, NATIVE_BACKEND_NAME } from '../backends/native.js';
import { optimizers, type OptimizerKind } from './optimizer-registry.js';

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

  private readonly kind: OptimizerKind;
  /** `config` with the registry's defaults under it (library callers may pass a partial config). */
  private readonly c: OptimizerConfig;

  /** `inPlace: false` forces the tf-op path on every backend (tests compare the two). */
  constructor(readonly config: OptimizerConfig, private readonly opts: { inPlace?: boolean } = {}) {
    this.kind = optimizers.get(config.name);
    this.c = { ...optimizers.defaults(this.kind), ...config };
  }

  /** Apply one update to `params` given their gradients, at learning rate `lr`. */
  step(params: tf.Variable[], grads: tf.Tensor[], lr: number): void {
    this.steps += 1;
    if (this.opts.inPlace !== false && this.stepInPlace(params, grads, lr)) return;
    const x = { c: this.c, lr, t: this.steps };
    tf.tidy(() => {
      params.forEach((p, i) => this.kind.update(tf, x, p, grads[i]!, (name) => this.slot(name, p, i)));
    });
  }

  /**
   * The in-place update on a JS-array backend; false (nothing touched) when the backend or a dtype does not allow
   * it. The kind's `updateInPlace` mirrors its tf ops one for one.
   */
  private stepInPlace(params: tf.Variable[], grads: tf.Tensor[], lr: number): boolean {
    const name = tf.getBackend();
    if (!isJsArrayBackend(name)) return false;
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
    // On tudui-native the same loops run in the addon (threaded, vectorised, bit-identical).
    const nat = name === NATIVE_BACKEND_NAME ? loadNativeAddon() : undefined;
    const native = typeof nat === 'object' ? nat : undefined;
    const x = { c: this.c, lr, t: this.steps };
    params.forEach((param, idx) => {
      this.kind.updateInPlace(x, own(param), arrays(grads[idx]!)!, (slot) => own(this.slot(slot, param, idx)), native);
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
