/**
 * Corrected training kernels for @tensorflow/tfjs-backend-webgpu 4.22 (filled in after the kernel checks).
 */
import type * as TF from '@tensorflow/tfjs';

type Tf = typeof TF;

/** Registers our kernels for the 'webgpu' backend over the package's; returns their names. */
export function registerWebgpuTrainingKernels(_tf: Tf): string[] {
  return [];
}
