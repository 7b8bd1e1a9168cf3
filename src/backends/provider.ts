/** Small helpers every backend provider uses to turn a failed load into one readable line. */

/** The first non-empty line of an error's message (native loaders put the useful part first). */
export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').find((l) => l.trim() !== '') ?? msg).trim();
}

/** Whether `e` says that the package `spec` itself is not installed (not one of its dependencies failing). */
export function isModuleNotFound(e: unknown, spec: string): boolean {
  const err = e as { code?: string; message?: string };
  return (err?.code === 'MODULE_NOT_FOUND' || err?.code === 'ERR_MODULE_NOT_FOUND') && String(err.message).includes(spec);
}
