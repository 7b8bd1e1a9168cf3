/**
 * Training kernels for the 'wasm' backend that the published @tensorflow/tfjs-backend-wasm 4.22 lacks or gets wrong.
 * Registered over the package's kernels with `tf.registerKernel` (see `registerWasmTrainingKernels`).
 *
 * - Conv2DBackpropFilter: missing in the package. Composed from the XNNPACK forward Conv2D: dW is the correlation of
 *   x with dy, so we move x's channels into the batch position ([C,H,W,B]), use dy as the filter ([OH,OW,B,CO]),
 *   turn the forward stride into a dilation, keep the forward padding (cropping rows/columns the forward pass never
 *   read), and transpose the [C,KH,KW,CO] result to [KH,KW,C,CO].
 * - Conv2DBackpropInput: the package's is a naive C++ loop (slow). Composed from forward Conv2D: dilate dy by the
 *   stride, pad by k-1-p, rotate the filter 180° and swap its in/out channels.
 * - MaxPoolGrad: the package's running max starts at the smallest positive float, so an all-negative window sends its
 *   gradient to the window's first element. Ours takes the max from -Infinity, ties to the first maximum in row-major
 *   window order (as the 'cpu' backend does), and accumulates dy at the argmax (JS over the wasm heap).
 * - AvgPoolGrad: the package's divides by the full window size even where the forward pass (XNNPACK, and tfjs' cpu
 *   backend) averaged over fewer, in-bounds pixels ('same' padding); ours divides by the count the forward used.
 *
 * Everything else a training step of conv2d/maxpool/avgpool/dense/relu/gelu/batchnorm/dropout/softmax cross-entropy
 * needs is present and correct in the package (checked by test/gradcheck*.test.ts against the 'cpu' backend).
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;
type TensorInfo = TF.TensorInfo;
type DataId = TensorInfo['dataId'];

/** The parts of BackendWasm we use. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array; wasmMemory?: { buffer: ArrayBufferLike } };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number; id: number } };
  makeOutput(shape: number[], dtype: 'float32' | 'int32' | 'bool'): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Shape4 = [number, number, number, number];

/** A Float32Array view of a tensor on the wasm heap (fresh buffer: shared memories grow under stale views). */
function heapF32(backend: WasmBackend, t: TensorInfo): Float32Array {
  const buffer = backend.wasm.wasmMemory?.buffer ?? backend.wasm.HEAPU8.buffer;
  const size = t.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(buffer, backend.dataIdMap.get(t.dataId).memoryOffset, size);
}

function makeOps(tf: Tf, backend: WasmBackend) {
  const call = (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`wasm kernel ${name} is not registered`);
    return k.kernelFunc({ inputs, backend: backend as never, attrs: attrs as never }) as TensorInfo;
  };
  const dispose = (...ts: TensorInfo[]) => {
    for (const t of ts) backend.disposeData(t.dataId);
  };
  const transpose = (x: TensorInfo, perm: number[]) => call('Transpose', { x }, { perm });
  const slice = (x: TensorInfo, begin: number[], size: number[]) => call('Slice', { x }, { begin, size });
  const conv = (x: TensorInfo, filter: TensorInfo, pad: [number, number, number, number], dilations: [number, number]) =>
    call('Conv2D', { x, filter }, {
      strides: [1, 1],
      pad: [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]],
      dilations,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
    });
  return { call, dispose, transpose, slice, conv };
}

function channelsLastOnly(kernel: string, dataFormat: unknown) {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm ${kernel}: only NHWC is supported, received dataFormat ${String(dataFormat)}`);
  }
}

export function conv2DBackpropFilterWasm(tf: Tf) {
  return ({ inputs, backend: b, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => {
    const backend = b as WasmBackend;
    const x = inputs.x!;
    const dy = inputs.dy!;
    const a = attrs ?? {};
    channelsLastOnly('Conv2DBackpropFilter', a.dataFormat);
    const filterShape = a.filterShape as Shape4;
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, a.strides as [number, number], 1,
      a.pad as Pad, a.dimRoundingMode as Rounding, false, 'channelsLast');
    const ops = makeOps(tf, backend);
    const [B, H, W, C] = x.shape as Shape4;
    const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW, outHeight: OH, outWidth: OW } = info;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    // Rows of x (from row 0) the forward pass read, given its top padding; extra rows are cropped, missing ones padded.
    const rows = (OH - 1) * sh + KH - pt;
    const cols = (OW - 1) * sw + KW - pl;
    const Hc = Math.min(H, rows);
    const Wc = Math.min(W, cols);
    const cropped = Hc < H || Wc < W ? ops.slice(x, [0, 0, 0, 0], [B, Hc, Wc, C]) : x;
    const xt = ops.transpose(cropped, [3, 1, 2, 0]); // [C, Hc, Wc, B]
    if (cropped !== x) ops.dispose(cropped);
    const dyt = ops.transpose(dy, [1, 2, 0, 3]); // [OH, OW, B, CO]
    const out = ops.conv(xt, dyt, [pt, rows - Hc, pl, cols - Wc], [sh, sw]); // [C, KH, KW, CO]
    ops.dispose(xt, dyt);
    const dw = ops.transpose(out, [1, 2, 0, 3]);
    ops.dispose(out);
    return dw;
  };
}

export function conv2DBackpropInputWasm(tf: Tf) {
  return ({ inputs, backend: b, attrs }: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => {
    const backend = b as WasmBackend;
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    const a = attrs ?? {};
    channelsLastOnly('Conv2DBackpropInput', a.dataFormat);
    const inputShape = a.inputShape as Shape4;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, a.strides as [number, number], 1,
      a.pad as Pad, a.dimRoundingMode as Rounding, false, 'channelsLast');
    const ops = makeOps(tf, backend);
    const [B, H, W] = inputShape;
    const [OB, OH, OW, CO] = dy.shape as Shape4;
    if (OB !== B) throw new Error('wasm Conv2DBackpropInput: batch mismatch');
    const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
    const pt = info.padInfo.top;
    const pl = info.padInfo.left;
    // Dilate dy by the stride.
    let dyd = dy;
    const Hd = (OH - 1) * sh + 1;
    const Wd = (OW - 1) * sw + 1;
    if (sh > 1 || sw > 1) {
      dyd = backend.makeOutput([B, Hd, Wd, CO], 'float32');
      const dst = heapF32(backend, dyd);
      const src = heapF32(backend, dy);
      dst.fill(0);
      for (let bi = 0; bi < B; bi++) {
        for (let r = 0; r < OH; r++) {
          for (let c = 0; c < OW; c++) {
            const so = ((bi * OH + r) * OW + c) * CO;
            const d0 = ((bi * Hd + r * sh) * Wd + c * sw) * CO;
            dst.set(src.subarray(so, so + CO), d0);
          }
        }
      }
    }
    let top = KH - 1 - pt;
    let bottom = H - Hd + pt;
    let left = KW - 1 - pl;
    let right = W - Wd + pl;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const r0 = Math.max(0, -top);
      const c0 = Math.max(0, -left);
      const hs = Hd - r0 - Math.max(0, -bottom);
      const ws = Wd - c0 - Math.max(0, -right);
      const s = ops.slice(dyd, [0, r0, c0, 0], [B, hs, ws, CO]);
      if (dyd !== dy) ops.dispose(dyd);
      dyd = s;
      top = Math.max(0, top);
      bottom = Math.max(0, bottom);
      left = Math.max(0, left);
      right = Math.max(0, right);
    }
    const rev = ops.call('Reverse', { x: filter }, { dims: [0, 1] });
    const wt = ops.transpose(rev, [0, 1, 3, 2]); // [KH, KW, CO, CI]
    ops.dispose(rev);
    const dx = ops.conv(dyd, wt, [top, bottom, left, right], [1, 1]);
    ops.dispose(wt);
    if (dyd !== dy) ops.dispose(dyd);
    return dx;
  };
}

type PoolGradArgs = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };

/** What both pooling gradients start from: the pool geometry and a zeroed dx over the wasm heap. */
function poolGradSetup(tf: Tf, { inputs, backend: b, attrs }: PoolGradArgs) {
  const backend = b as WasmBackend;
  const dy = inputs.dy!;
  const input = inputs.input!;
  const a = attrs ?? {};
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, a.filterSize as [number, number],
    a.strides as [number, number], 1, a.pad as Pad, a.dimRoundingMode as Rounding);
  const dx = backend.makeOutput(input.shape, 'float32');
  const out = heapF32(backend, dx);
  out.fill(0);
  return { backend, input, info, dx, out, g: heapF32(backend, dy), pt: info.padInfo.top, pl: info.padInfo.left };
}

export function maxPoolGradWasm(tf: Tf) {
  return (args: PoolGradArgs) => {
    const { backend, input, info, dx, out, g, pt, pl } = poolGradSetup(tf, args);
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: KH, effectiveFilterWidth: KW, dilationHeight: dh, dilationWidth: dw } = info;
    const x = heapF32(backend, input);
    const best = new Float64Array(C);
    const arg = new Int32Array(C);
    for (let bi = 0; bi < B; bi++) {
      const xb = bi * H * W * C;
      for (let r = 0; r < OH; r++) {
        const r0 = r * sh - pt;
        for (let c = 0; c < OW; c++) {
          const c0 = c * sw - pl;
          best.fill(-Infinity);
          arg.fill(-1);
          for (let kr = 0; kr < KH; kr += dh) {
            const xr = r0 + kr;
            if (xr < 0 || xr >= H) continue;
            for (let kc = 0; kc < KW; kc += dw) {
              const xc = c0 + kc;
              if (xc < 0 || xc >= W) continue;
              const base = xb + (xr * W + xc) * C;
              for (let ch = 0; ch < C; ch++) {
                const v = x[base + ch]!;
                if (arg[ch] === -1 || v > best[ch]!) {
                  best[ch] = v;
                  arg[ch] = base + ch;
                }
              }
            }
          }
          const gb = ((bi * OH + r) * OW + c) * C;
          for (let ch = 0; ch < C; ch++) {
            const at = arg[ch]!;
            if (at >= 0) out[at] = out[at]! + g[gb + ch]!;
          }
        }
      }
    }
    return dx;
  };
}

export function avgPoolGradWasm(tf: Tf) {
  return (args: PoolGradArgs) => {
    const { info, dx, out, g, pt, pl } = poolGradSetup(tf, args);
    const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: KH, filterWidth: KW } = info;
    for (let bi = 0; bi < B; bi++) {
      const xb = bi * H * W * C;
      for (let r = 0; r < OH; r++) {
        const ra = Math.max(0, r * sh - pt);
        const rb = Math.min(H, r * sh - pt + KH);
        for (let c = 0; c < OW; c++) {
          const ca = Math.max(0, c * sw - pl);
          const cb = Math.min(W, c * sw - pl + KW);
          const count = (rb - ra) * (cb - ca);
          if (count <= 0) continue;
          const inv = 1 / count;
          const gb = ((bi * OH + r) * OW + c) * C;
          for (let xr = ra; xr < rb; xr++) {
            for (let xc = ca; xc < cb; xc++) {
              const base = xb + (xr * W + xc) * C;
              for (let ch = 0; ch < C; ch++) out[base + ch] = out[base + ch]! + g[gb + ch]! * inv;
            }
          }
        }
      }
    }
    return dx;
  };
}

let registered = false;

/** Registers our kernels on 'wasm' (idempotent). Call before or after the backend initialises: none needs setup. */
export function registerWasmTrainingKernels(tf: Tf): string[] {
  const kernels: Array<[string, (tf: Tf) => TF.KernelFunc]> = [
    ['Conv2DBackpropFilter', conv2DBackpropFilterWasm as (tf: Tf) => TF.KernelFunc],
    ['Conv2DBackpropInput', conv2DBackpropInputWasm as (tf: Tf) => TF.KernelFunc],
    ['MaxPoolGrad', maxPoolGradWasm as (tf: Tf) => TF.KernelFunc],
    ['AvgPoolGrad', avgPoolGradWasm as (tf: Tf) => TF.KernelFunc],
  ];
  if (!registered) {
    for (const [name, make] of kernels) {
      if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(tf) });
    }
    registered = true;
  }
  return kernels.map(([n]) => n);
}
