/**
 * Training kernels for @tensorflow/tfjs-backend-webgpu 4.22 that we replace. Found by test/helpers/webgpu-check.ts
 * (every training kernel against the pure-JS 'cpu' backend; run on Mesa's lavapipe and meant for real GPUs):
 *
 * - MaxPoolGrad: the package finds each window's arg-max with `if (value >= currentMax)`, i.e. the LAST of equal
 *   maxima, while the cpu backend, TensorFlow and PyTorch route the gradient to the FIRST. With ties (ReLU zeros,
 *   quantised or padded inputs, saturated activations) the gradient lands on another input position, so a
 *   max-pooling net trains differently than on the other backends. Ours: first maximum (strict `>` after the first
 *   valid element, so all-negative windows and windows cut by padding are right too).
 *
 * Everything else that training uses (Conv2D / Conv2DBackpropInput / Conv2DBackpropFilter, FusedConv2D, MaxPool,
 * AvgPool / AvgPoolGrad, (Batch)MatMul and its transposes, FusedMatMul, activations and their grads, reductions,
 * batch norm, softmax cross-entropy) matched the cpu backend to float32 rounding on stride 1/2, same/valid/explicit
 * padding, all-negative windows and ragged tile sizes.
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number];
  size: boolean;
  getUserCode(): string;
}

interface WebgpuBackendLike {
  runWebGPUProgram(program: WebgpuProgram, inputs: TensorInfoLike[], outputDtype: string, uniforms?: Array<{ type: string; data: number[] }>): TensorInfoLike;
  disposeData(dataId: object): void;
}

function flatDispatch(shape: number[], workgroupX: number): { layout: { x: number[] }; dispatch: [number, number, number] } {
  const size = shape.reduce((a, b) => a * b, 1);
  return { layout: { x: shape.map((_, i) => i) }, dispatch: [Math.ceil(size / workgroupX), 1, 1] };
}

/** Per output element of the max pool: index (wR * filterW + wC) of the FIRST maximum in its window. */
class MaxPoolFirstPositionsProgram implements WebgpuProgram {
  variableNames = ['x'];
  uniforms = 'strides : vec2<i32>, pads : vec2<i32>, dilations : vec2<i32>, convDims : vec2<i32>, filterDims : vec2<i32>,';
  workgroupSize: [number, number, number] = [128, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'tudui_maxPool2D_firstPositions';
  constructor(outShape: number[]) {
    this.outputShape = outShape;
    const d = flatDispatch(outShape, this.workgroupSize[0]);
    this.dispatchLayout = d.layout;
    this.dispatch = d.dispatch;
  }
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let batch = coords[0];
          let d = coords[3];
          let xRCCorner = vec2<i32>(coords.yz) * uniforms.strides - uniforms.pads;
          var maxValue = 0.0;
          var found = false;
          var maxPosition = 0;
          for (var wR = 0; wR < uniforms.filterDims.x; wR = wR + uniforms.dilations.x) {
            let xR = xRCCorner.x + wR;
            if (xR < 0 || xR >= uniforms.convDims.x) {
              continue;
            }
            for (var wC = 0; wC < uniforms.filterDims.y; wC = wC + uniforms.dilations.y) {
              let xC = xRCCorner.y + wC;
              if (xC < 0 || xC >= uniforms.convDims.y) {
                continue;
              }
              let value = getX(batch, xR, xC, d);
              if (!found || value > maxValue) {
                maxValue = value;
                found = true;
                maxPosition = wR * uniforms.filterDims.y + wC;
              }
            }
          }
          setOutputAtIndexI32(index, maxPosition);
        }
      }
    `;
  }
}

/** dx[x] = sum of dy over the windows whose (first) maximum is x. Same structure as the package's program. */
class MaxPoolBackpropProgram implements WebgpuProgram {
  variableNames = ['dy', 'maxPos'];
  uniforms = 'strides : vec2<i32>, pads : vec2<i32>, dilations : vec2<i32>, filterDims : vec2<i32>, outHeight : i32, outWidth : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'tudui_maxPool2DBackprop';
  constructor(inShape: number[]) {
    this.outputShape = inShape;
    const d = flatDispatch(inShape, this.workgroupSize[0]);
    this.dispatchLayout = d.layout;
    this.dispatch = d.dispatch;
  }
  getUserCode(): string {
    // Integer arithmetic for the window test (the package divides in f32 and checks fract()).
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let batch = coords[0];
          let d = coords[3];
          let dyRCCorner = vec2<i32>(coords.yz) - uniforms.pads;
          var dotProd = 0.0;
          let lastIndex = uniforms.filterDims[0] * uniforms.filterDims[1] - 1;
          for (var wR = 0; wR < uniforms.filterDims[0]; wR = wR + uniforms.dilations[0]) {
            let dyRNum = dyRCCorner.x + wR;
            if (dyRNum < 0 || dyRNum % uniforms.strides[0] != 0) {
              continue;
            }
            let idyR = dyRNum / uniforms.strides[0];
            if (idyR >= uniforms.outHeight) {
              continue;
            }
            for (var wC = 0; wC < uniforms.filterDims[1]; wC = wC + uniforms.dilations[1]) {
              let dyCNum = dyRCCorner.y + wC;
              if (dyCNum < 0 || dyCNum % uniforms.strides[1] != 0) {
                continue;
              }
              let idyC = dyCNum / uniforms.strides[1];
              if (idyC >= uniforms.outWidth) {
                continue;
              }
              let maxPosValue = lastIndex - i32(getMaxPos(batch, idyR, idyC, d));
              if (maxPosValue == wR * uniforms.filterDims[1] + wC) {
                dotProd = dotProd + getDy(batch, idyR, idyC, d);
              }
            }
          }
          setOutputAtIndex(index, dotProd);
        }
      }
    `;
  }
}

function maxPoolGradFactory(tf: Tf): TF.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as unknown as { dy: TensorInfoLike; input: TensorInfoLike };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const b = backend as unknown as WebgpuBackendLike;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const positions = b.runWebGPUProgram(new MaxPoolFirstPositionsProgram(info.outShape), [input], 'int32', [
      { type: 'int32', data: [info.strideHeight, info.strideWidth] },
      { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
      { type: 'int32', data: [info.dilationHeight, info.dilationWidth] },
      { type: 'int32', data: [info.inHeight, info.inWidth] },
      { type: 'int32', data: [info.effectiveFilterHeight, info.effectiveFilterWidth] },
    ]);
    try {
      return b.runWebGPUProgram(new MaxPoolBackpropProgram(info.inShape), [dy, positions], 'float32', [
        { type: 'int32', data: [info.strideHeight, info.strideWidth] },
        {
          type: 'int32',
          data: [info.effectiveFilterHeight - 1 - info.padInfo.top, info.effectiveFilterWidth - 1 - info.padInfo.left],
        },
        { type: 'int32', data: [info.dilationHeight, info.dilationWidth] },
        { type: 'int32', data: [info.effectiveFilterHeight, info.effectiveFilterWidth] },
        { type: 'int32', data: [info.outHeight] },
        { type: 'int32', data: [info.outWidth] },
      ]) as unknown as TF.TensorInfo;
    } finally {
      b.disposeData(positions.dataId);
    }
  };
}

/** Registers our kernels for the 'webgpu' backend over the package's; returns their names. Idempotent. */
export function registerWebgpuTrainingKernels(tf: Tf): string[] {
  const kernels: Array<{ name: string; func: TF.KernelFunc }> = [{ name: 'MaxPoolGrad', func: maxPoolGradFactory(tf) }];
  for (const k of kernels) {
    if (tf.getKernel(k.name, 'webgpu')) tf.unregisterKernel(k.name, 'webgpu');
    tf.registerKernel({ kernelName: k.name, backendName: 'webgpu', kernelFunc: k.func });
  }
  return kernels.map((k) => k.name);
}
