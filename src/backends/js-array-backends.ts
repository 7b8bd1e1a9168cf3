/**
 * The tfjs backends whose tensors are plain JS typed arrays: tfjs's MathBackendCPU ('cpu') and 'tudui-native',
 * which is one (src/backends/native.ts). Code that reads or updates tensor data in place (the optimizers' in-place
 * step, batch norm's JS loops) asks `isJsArrayBackend` here, so the list is written once.
 */
export const NATIVE_BACKEND_NAME = 'tudui-native';

const JS_ARRAY_BACKENDS: ReadonlySet<string> = new Set(['cpu', NATIVE_BACKEND_NAME]);

export function isJsArrayBackend(name: string): boolean {
  return JS_ARRAY_BACKENDS.has(name);
}
