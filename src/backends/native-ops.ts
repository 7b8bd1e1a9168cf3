/**
 * The 'tudui-native' kernels beyond convolution, pooling and matrix products (native-conv.ts, native-pooling.ts,
 * native-blas.ts): element-wise activations and math on oneDNN's eltwise primitives, broadcasting binary
 * arithmetic, softmax, batch norm (training, inference, gradient), padding and slicing in the addon, and the fused
 * kernels of fused-kernels.ts. Small bookkeeping kernels (Relu, Step, Tile, Cast, OneHot, AddN) are plain JS loops
 * here, so no training step leaves the backend.
 * Each kernel takes the float32 cases it knows and hands anything else to tfjs's cpu kernel (`fallback`).
 */
import type * as TF from '@tensorflow/tfjs';
// seedrandom's alea: the generator tf.randomUniform draws from (seedrandom is tfjs-core's own dependency).
import alea from 'seedrandom/lib/alea.js';
import { FUSED, type FusedActivation } from './fused-kernels.js';
import { copyBoxGeom, sizeOf, type KernelArgs, type KernelContext, type KernelImpl } from './native-kernel.js';

type TensorInfo = TF.TensorInfo;

/** oneDNN eltwise algorithm ids of the addon (native/src/eltwise.cc, eltwise_alg); ≥ 100 are plain loops. */
const ELT = {
  relu: 0, leakyRelu: 1, gelu: 2, sigmoid: 3, tanh: 4, elu: 5, exp: 6, log: 7, linear: 8, sqrt: 9, square: 10,
  abs: 11, softplus: 12, clip: 13, round: 14, floor: 100, erf: 101, ceil: 102, reciprocal: 103,
} as const;

const ACTIVATION_ALG: Record<FusedActivation, number> = {
  relu: ELT.relu, leaky_relu: ELT.leakyRelu, gelu: ELT.gelu, sigmoid: ELT.sigmoid, tanh: ELT.tanh, elu: ELT.elu,
};
/** Gradients oneDNN computes from the output (y) rather than the input. */
const GRAD_FROM_Y = new Set<number>([ELT.relu, ELT.sigmoid, ELT.tanh, ELT.elu]);

/** Binary op ids of the addon's broadcasting loop (eltwise.cc, Binary). */
const BINARY = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;

/** Row-major strides of `shape` broadcast to `out` (0 on broadcast axes), aligned to the right. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const r = out.length, off = r - shape.length;
  const strides = new Array<number>(r).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[off + i] = shape[i] === 1 && out[off + i] !== 1 ? 0 : s;
    s *= shape[i]!;
  }
  return strides;
}

/** `floatSum`: native-blas.ts's float32 Sum (the addon's reductions), which Sum here extends to int32 and bool. */
export function makeOpKernels(ctx: KernelContext, floatSum: KernelImpl): Record<string, KernelImpl> {
  const { tf, nat, out32, f32, fallback } = ctx;
  const bu = tf.backend_util;

  /** y = f(x) for one oneDNN eltwise algorithm. */
  const unary = (name: string, alg: number, alpha = 0, beta = 0, attrAlpha?: string): KernelImpl => (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv || xv.length === 0) return fallback(name, args);
    const a = attrAlpha ? Number((args.attrs as Record<string, unknown> | undefined)?.[attrAlpha] ?? alpha) : alpha;
    const y = out32(xv.length);
    nat.eltwise(alg, xv, y, a, beta);
    return backend.makeTensorInfo([...x.shape], 'float32', y);
  };

  const binary = (name: keyof typeof BINARY): KernelImpl => (args) => {
    const { backend } = args;
    const a = args.inputs.a!, b = args.inputs.b!;
    const av = f32(backend, a), bv = f32(backend, b);
    if (!av || !bv) return fallback(name, args);
    const shape = bu.assertAndGetBroadcastShape(a.shape, b.shape);
    const n = sizeOf(shape);
    if (n === 0 || shape.length > 8) return fallback(name, args);
    const dims = shape.length === 0 ? [1] : shape;
    const geom = Int32Array.from([dims.length, ...dims, ...broadcastStrides(a.shape, dims), ...broadcastStrides(b.shape, dims)]);
    const o = out32(n);
    nat.binary(BINARY[name], av, bv, o, geom);
    return backend.makeTensorInfo(shape, 'float32', o);
  };

  const addN: KernelImpl = (args) => {
    const { backend } = args;
    const ts = Object.values(args.inputs) as TensorInfo[];
    const vs = ts.map((t) => f32(backend, t));
    const first = ts[0];
    if (!first || vs.some((v) => !v || v.length !== vs[0]!.length) || vs[0]!.length === 0) return fallback('AddN', args);
    const n = vs[0]!.length;
    const geom = Int32Array.from([1, n, 1, 1]);
    let acc = out32(n);
    nat.binary(BINARY.Add, vs[0]!, vs.length > 1 ? vs[1]! : new Float32Array(n), acc, geom);
    for (let i = 2; i < vs.length; i++) {
      const next = out32(n);
      nat.binary(BINARY.Add, acc, vs[i]!, next, geom);
      acc = next;
    }
    return backend.makeTensorInfo([...first.shape], 'float32', acc);
  };

  /** Softmax over the last axis (tfjs's Softmax kernel always gets dim = -1 from tf.softmax). */
  const softmax: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.logits!;
    const xv = f32(backend, x);
    const dim = Number((args.attrs as { dim?: number } | undefined)?.dim ?? -1);
    if (!xv || x.shape.length === 0 || xv.length === 0 || (dim !== -1 && dim !== x.shape.length - 1)) return fallback('Softmax', args);
    const cols = x.shape[x.shape.length - 1]!;
    const y = out32(xv.length);
    nat.softmax(xv, y, xv.length / cols, cols, false);
    return backend.makeTensorInfo([...x.shape], 'float32', y);
  };

  /** The data as the addon's batch norm takes it: [N, H, W, C] or [rows, C]. */
  const bnDims = (shape: readonly number[]): Int32Array | undefined => {
    if (shape.length === 4) return Int32Array.from(shape);
    if (shape.length >= 1) return Int32Array.from([sizeOf(shape.slice(0, -1)), shape[shape.length - 1]!]);
    return undefined;
  };

  /** Inference batch norm (tf.batchNorm): per-channel statistics, scale and offset over the last axis. */
  const fusedBatchNorm: KernelImpl = (args) => {
    const { backend } = args;
    const { x, mean, variance, offset, scale } = args.inputs;
    const eps = Number((args.attrs as { varianceEpsilon?: number } | undefined)?.varianceEpsilon ?? 0.001);
    const xv = f32(backend, x!), mv = f32(backend, mean!), vv = f32(backend, variance!);
    const c = x!.shape[x!.shape.length - 1] ?? 0;
    const chan = (t: TensorInfo | undefined, dflt: number): Float32Array | undefined => {
      if (!t) return new Float32Array(c).fill(dflt);
      const v = f32(backend, t);
      return v && v.length === c ? v : undefined;
    };
    const gv = chan(scale, 1), ov = chan(offset, 0);
    const dims = bnDims(x!.shape);
    if (!xv || !mv || !vv || !gv || !ov || !dims || c === 0 || xv.length === 0 || mv.length !== c || vv.length !== c) {
      return fallback('FusedBatchNorm', args);
    }
    const y = out32(xv.length);
    nat.batchNorm(xv, gv, ov, y, mv, vv, dims, eps, false);
    return backend.makeTensorInfo([...x!.shape], 'float32', y);
  };

  /** PadV2 (constant padding) and Slice: one strided copy in the addon. */
  const pad: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const attrs = args.attrs as unknown as TF.PadV2Attrs;
    const xv = f32(backend, x);
    const r = x.shape.length;
    if (!xv || r === 0 || r > 8 || xv.length === 0) return fallback('PadV2', args);
    const outShape = x.shape.map((d, i) => d + attrs.paddings[i]![0] + attrs.paddings[i]![1]);
    const o = out32(sizeOf(outShape));
    nat.copyBox(xv, o, copyBoxGeom(x.shape, outShape, attrs.paddings.map((p) => -p[0])), attrs.constantValue ?? 0);
    return backend.makeTensorInfo(outShape, 'float32', o);
  };

  const slice: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const attrs = args.attrs as unknown as TF.SliceAttrs;
    const xv = f32(backend, x);
    const r = x.shape.length;
    if (!xv || r === 0 || r > 8) return fallback('Slice', args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as TF.Tensor, attrs.begin, attrs.size) as [number[], number[]];
    if (sizeOf(size) === 0) return fallback('Slice', args);
    const o = out32(sizeOf(size));
    nat.copyBox(xv, o, copyBoxGeom(x.shape, size, begin), 0);
    return backend.makeTensorInfo(size, 'float32', o);
  };

  /** Cast between float32, int32 and bool (JS loops); complex and strings go to the cpu kernel. */
  const cast: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const to = (args.attrs as unknown as TF.CastAttrs).dtype;
    const v = backend.data.get(x.dataId).values as ArrayLike<number> | undefined;
    const from = x.dtype;
    const simple = (d: string) => d === 'float32' || d === 'int32' || d === 'bool';
    if (from === to) return ctx.identity(args);
    if (!v || !simple(from) || !simple(to)) return fallback('Cast', args);
    const n = v.length;
    // Monomorphic loops per source type (a loop over ArrayLike<number> is several times slower).
    if (to === 'float32' && v instanceof Int32Array) {
      const o = new Float32Array(n);
      for (let i = 0; i < n; i++) o[i] = v[i]!;
      return backend.makeTensorInfo([...x.shape], 'float32', o);
    }
    if (to === 'float32') {
      const o = new Float32Array(n);
      for (let i = 0; i < n; i++) o[i] = v[i]!;
      return backend.makeTensorInfo([...x.shape], 'float32', o);
    }
    if (to === 'int32') {
      const o = new Int32Array(n);
      for (let i = 0; i < n; i++) o[i] = v[i]!; // truncates toward zero, as tfjs's cpu Cast
      return backend.makeTensorInfo([...x.shape], 'int32', o);
    }
    const o = new Uint8Array(n);
    for (let i = 0; i < n; i++) o[i] = v[i] !== 0 ? 1 : 0;
    return backend.makeTensorInfo([...x.shape], 'bool', o);
  };

  const oneHot: KernelImpl = (args) => {
    const { backend } = args;
    const ind = args.inputs.indices!;
    const { depth, onValue, offValue, dtype } = args.attrs as unknown as TF.OneHotAttrs;
    const v = backend.data.get(ind.dataId).values as ArrayLike<number> | undefined;
    if (!v || ind.dtype !== 'int32' || (dtype !== 'int32' && dtype !== 'float32')) return fallback('OneHot', args);
    const o = dtype === 'int32' ? new Int32Array(v.length * depth) : new Float32Array(v.length * depth);
    if (offValue !== 0) o.fill(offValue);
    for (let i = 0; i < v.length; i++) {
      const k = v[i]!;
      if (k >= 0 && k < depth) o[i * depth + k] = onValue;
    }
    return backend.makeTensorInfo([...ind.shape, depth], dtype, o);
  };

  /** Evaluation's bookkeeping: ArgMax over the last axis, Equal of two same-shape tensors, Sum of int32/bool. */
  const argMax: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    const r = x.shape.length;
    const axis = tf.util.parseAxisParam((args.attrs as unknown as TF.ArgMaxAttrs).axis, x.shape);
    if (!xv || r === 0 || axis.length !== 1 || axis[0] !== r - 1 || xv.length === 0) return fallback('ArgMax', args);
    const cols = x.shape[r - 1]!, rows = xv.length / cols;
    const o = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      let best = 0, bv = xv[i * cols]!;
      for (let j = 1; j < cols; j++) {
        const v = xv[i * cols + j]!;
        if (v > bv) { bv = v; best = j; } // first maximum, as tfjs's cpu kernel
      }
      o[i] = best;
    }
    return backend.makeTensorInfo(x.shape.slice(0, -1), 'int32', o);
  };

  const equal: KernelImpl = (args) => {
    const { backend } = args;
    const a = args.inputs.a!, b = args.inputs.b!;
    const av = backend.data.get(a.dataId).values, bv = backend.data.get(b.dataId).values;
    const typed = (v: unknown) => v instanceof Int32Array || v instanceof Float32Array;
    if (a.dtype !== b.dtype || !typed(av) || !typed(bv) || a.shape.join() !== b.shape.join()) return fallback('Equal', args);
    const x = av as Int32Array | Float32Array, y = bv as Int32Array | Float32Array;
    const o = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) o[i] = x[i] === y[i] ? 1 : 0;
    return backend.makeTensorInfo([...a.shape], 'bool', o);
  };

  /** Sum of every element of an int32 or bool tensor (int32 result, as tfjs's); other cases go to `floatSum`. */
  const integerSum = (floatSum: KernelImpl): KernelImpl => (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    if (x.dtype !== 'int32' && x.dtype !== 'bool') return floatSum(args);
    const attrs = args.attrs as unknown as TF.SumAttrs;
    const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
    const v = backend.data.get(x.dataId).values;
    if (axes.length !== x.shape.length || !(v instanceof Int32Array || v instanceof Uint8Array)) return fallback('Sum', args);
    let total = 0;
    for (let i = 0; i < v.length; i++) total += v[i]!;
    return backend.makeTensorInfo(attrs.keepDims ? x.shape.map(() => 1) : [], 'int32', Int32Array.of(total));
  };

  // ---------------------------------------------------------------------------------------------- fused kernels

  const activationAlg = (args: KernelArgs): { alg: number; alpha: number } => {
    const { activation, alpha } = args.attrs as unknown as { activation: FusedActivation; alpha: number };
    const alg = ACTIVATION_ALG[activation];
    if (alg === undefined) throw new Error(`${FUSED.activation}: unknown activation '${activation}'`);
    // oneDNN's elu takes alpha = 1 (PyTorch's default); relu has slope 0.
    return { alg, alpha: activation === 'leaky_relu' ? alpha : activation === 'elu' ? 1 : 0 };
  };

  const activation: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv) throw new Error(`${FUSED.activation}: float32 input required`);
    const { alg, alpha } = activationAlg(args);
    const y = out32(xv.length);
    if (xv.length) nat.eltwise(alg, xv, y, alpha, 0);
    return backend.makeTensorInfo([...x.shape], 'float32', y);
  };

  const activationGrad: KernelImpl = (args) => {
    const { backend } = args;
    const { dy, x, y } = args.inputs;
    const { alg, alpha } = activationAlg(args);
    const v = f32(backend, GRAD_FROM_Y.has(alg) ? y! : x!), dyv = f32(backend, dy!);
    if (!v || !dyv) throw new Error(`${FUSED.activationGrad}: float32 inputs required`);
    const dx = out32(v.length);
    if (v.length) nat.eltwiseGrad(alg, v, dyv, dx, alpha, 0);
    return backend.makeTensorInfo([...x!.shape], 'float32', dx);
  };

  const batchNorm: KernelImpl = (args) => {
    const { backend } = args;
    const { x, gamma, beta } = args.inputs;
    const eps = Number((args.attrs as { eps: number }).eps);
    const xv = f32(backend, x!), gv = f32(backend, gamma!), bv = f32(backend, beta!);
    const dims = bnDims(x!.shape);
    if (!xv || !gv || !bv || !dims) throw new Error(`${FUSED.batchNorm}: float32 inputs required`);
    const c = gv.length;
    const y = out32(xv.length), mean = new Float32Array(c), variance = new Float32Array(c);
    nat.batchNorm(xv, gv, bv, y, mean, variance, dims, eps, true);
    return [
      backend.makeTensorInfo([...x!.shape], 'float32', y),
      backend.makeTensorInfo([c], 'float32', mean),
      backend.makeTensorInfo([c], 'float32', variance),
    ];
  };

  const batchNormGrad: KernelImpl = (args) => {
    const { backend } = args;
    const { dy, x, gamma, mean, variance } = args.inputs;
    const eps = Number((args.attrs as { eps: number }).eps);
    const vals = [dy, x, gamma, mean, variance].map((t) => f32(backend, t!));
    const dims = bnDims(x!.shape);
    if (vals.some((v) => !v) || !dims) throw new Error(`${FUSED.batchNormGrad}: float32 inputs required`);
    const [dyv, xv, gv, mv, vv] = vals as Float32Array[];
    const c = gv!.length;
    const dx = out32(xv!.length), dgamma = new Float32Array(c), dbeta = new Float32Array(c);
    nat.batchNormGrad(dyv!, xv!, gv!, mv!, vv!, dx, dgamma, dbeta, dims, eps);
    return [
      backend.makeTensorInfo([...x!.shape], 'float32', dx),
      backend.makeTensorInfo([c], 'float32', dgamma),
      backend.makeTensorInfo([c], 'float32', dbeta),
    ];
  };

  const softmaxXent: KernelImpl = (args) => {
    const { backend } = args;
    const { logits, labels } = args.inputs;
    const smoothing = Number((args.attrs as { smoothing: number }).smoothing ?? 0);
    const xv = f32(backend, logits!);
    const lv = backend.data.get(labels!.dataId).values;
    if (!xv || !(lv instanceof Int32Array) || logits!.shape.length !== 2) throw new Error(`${FUSED.softmaxXent}: float32 logits [batch, classes] and int32 labels required`);
    const [rows, cols] = logits!.shape as [number, number];
    const loss = new Float32Array(rows), probs = new Float32Array(rows * cols);
    nat.softmaxXent(xv, lv, loss, probs, rows, cols, smoothing);
    return [backend.makeTensorInfo([rows], 'float32', loss), backend.makeTensorInfo([rows, cols], 'float32', probs)];
  };

  /** d loss_r / d logits_rj = (p_rj − target_rj)·dy_r (a [batch, classes] loop: cheap in JS). */
  const softmaxXentGrad: KernelImpl = (args) => {
    const { backend } = args;
    const { dy, probs, labels } = args.inputs;
    const s = Number((args.attrs as { smoothing: number }).smoothing ?? 0);
    const dyv = f32(backend, dy!), pv = f32(backend, probs!);
    const lv = backend.data.get(labels!.dataId).values as Int32Array;
    const [rows, cols] = probs!.shape as [number, number];
    if (!dyv || !pv) throw new Error(`${FUSED.softmaxXentGrad}: float32 inputs required`);
    const out = new Float32Array(rows * cols);
    const off = s / cols, on = 1 - s + off;
    for (let r = 0; r < rows; r++) {
      const g = dyv[r]!, k = lv[r]!;
      for (let j = 0, i = r * cols; j < cols; j++, i++) out[i] = (pv[i]! - (j === k ? on : off)) * g;
    }
    return backend.makeTensorInfo([rows, cols], 'float32', out);
  };

  /** tf.dropout's multiplier (see fusedDropoutMask): the alea generator's start state from seedrandom itself. */
  const dropoutMask: KernelImpl = (args) => {
    const { backend } = args;
    const { shape, rate, seed } = args.attrs as unknown as { shape: number[]; rate: number; seed: number };
    const st = alea(String(seed), { state: true }).state();
    const mask = out32(sizeOf(shape));
    nat.dropoutMask(Float64Array.of(st.c, st.s0, st.s1, st.s2), Math.fround(1 - rate), mask);
    return backend.makeTensorInfo([...shape], 'float32', mask);
  };

  const alphaAttr = 'alpha';
  /**
   * Tile of a tensor whose leading axes are all 1 along those same leading axes ([1,1,1,C] → [N,H,W,C]: tfjs's
   * batch-norm gradient does this every step): copies of one row. Other tilings go to the cpu kernel.
   */
  const tile: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const reps = (args.attrs as unknown as TF.TileAttrs).reps;
    const xv = f32(backend, x);
    const r = x.shape.length;
    if (!xv || reps.length !== r || r === 0) return fallback('Tile', args);
    let k = 0; // number of leading axes that are tiled
    while (k < r && x.shape[k] === 1) k++;
    if (reps.slice(k).some((v) => v !== 1)) return fallback('Tile', args);
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const copies = sizeOf(reps.slice(0, k));
    const out = out32(copies * xv.length);
    for (let c = 0; c < copies; c++) out.set(xv, c * xv.length);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };

  /** Relu and Step (relu's gradient) on float32: same results as the cpu kernels, NaN included. */
  const relu: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv) return fallback('Relu', args);
    const o = new Float32Array(xv.length);
    for (let i = 0; i < o.length; i++) { const v = xv[i]!; o[i] = v < 0 ? 0 : v; }
    return backend.makeTensorInfo([...x.shape], 'float32', o);
  };
  const step: KernelImpl = (args) => {
    const { backend } = args;
    const x = args.inputs.x!;
    const xv = f32(backend, x);
    if (!xv) return fallback('Step', args);
    const alpha = ((args.attrs ?? {}) as { alpha?: number }).alpha ?? 0;
    const o = new Float32Array(xv.length);
    for (let i = 0; i < o.length; i++) { const v = xv[i]!; o[i] = v !== v ? NaN : v > 0 ? 1 : alpha; }
    return backend.makeTensorInfo([...x.shape], 'float32', o);
  };

  return {
    // activations and math (stock kernel names)
    Relu: relu,
    Step: step,
    LeakyRelu: unary('LeakyRelu', ELT.leakyRelu, 0.2, 0, alphaAttr),
    Sigmoid: unary('Sigmoid', ELT.sigmoid),
    Tanh: unary('Tanh', ELT.tanh),
    Elu: unary('Elu', ELT.elu, 1),
    Relu6: unary('Relu6', ELT.clip, 0, 6),
    Exp: unary('Exp', ELT.exp),
    Log: unary('Log', ELT.log),
    Neg: unary('Neg', ELT.linear, -1, 0),
    Sqrt: unary('Sqrt', ELT.sqrt),
    Square: unary('Square', ELT.square),
    Abs: unary('Abs', ELT.abs),
    Softplus: unary('Softplus', ELT.softplus, 1),
    Floor: unary('Floor', ELT.floor),
    Ceil: unary('Ceil', ELT.ceil),
    Erf: unary('Erf', ELT.erf),
    Reciprocal: unary('Reciprocal', ELT.reciprocal),
    Add: binary('Add'),
    Sub: binary('Sub'),
    Multiply: binary('Multiply'),
    RealDiv: binary('RealDiv'),
    Maximum: binary('Maximum'),
    Minimum: binary('Minimum'),
    SquaredDifference: binary('SquaredDifference'),
    AddN: addN,
    Softmax: softmax,
    FusedBatchNorm: fusedBatchNorm,
    PadV2: pad,
    Slice: slice,
    Tile: tile,
    Cast: cast,
    OneHot: oneHot,
    ArgMax: argMax,
    Equal: equal,
    // fused kernels (fused-kernels.ts)
    [FUSED.activation]: activation,
    [FUSED.activationGrad]: activationGrad,
    [FUSED.batchNorm]: batchNorm,
    [FUSED.batchNormGrad]: batchNormGrad,
    [FUSED.softmaxXent]: softmaxXent,
    [FUSED.softmaxXentGrad]: softmaxXentGrad,
    [FUSED.dropoutMask]: dropoutMask,
    Sum: integerSum(floatSum),
  };
}
