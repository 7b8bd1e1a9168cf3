/**
 * What a backend provider is, and the one way it says "not here": its loader throws `BackendUnavailable` (one line
 * saying why, and what the user can run to get it); `defineProvider` turns that into `{ ok: false, reason,
 * install }` for `selectBackend` and `tudui devices`. Any other error while loading is reported the same way, as
 * "<name> failed to load: <first line>". Loaders never fall back to another backend themselves.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;
export type DeviceKind = 'gpu' | 'cpu';

export interface ProviderContext {
  tf: Tf;
  threads?: number;
}

/** What a loader returns once its backend is registered and active. */
export interface LoadedBackend {
  /** tfjs backend name now active. */
  backend: string;
  /** One line for humans: what runs the maths, with versions/threads where known. */
  description: string;
}

export type ProviderResult =
  | ({ ok: true } & LoadedBackend)
  | { ok: false; reason: string; /** what the user can run to get it */ install?: string };

export interface BackendProvider {
  /** Provider name as shown to users (also `tudui devices`). */
  name: string;
  kind: DeviceKind;
  /** Load, register and activate the backend (tf.setBackend); or say why not. Never throws. */
  load(ctx: ProviderContext): Promise<ProviderResult>;
}

/** Thrown by a loader when its backend cannot be used here: the message is the reason, one line. */
export class BackendUnavailable extends Error {
  constructor(
    message: string,
    /** What the user can run to get it, when there is such a command. */
    readonly install?: string,
  ) {
    super(message);
    this.name = 'BackendUnavailable';
  }
}

/** A provider from a loader that resolves with the loaded backend or throws (BackendUnavailable: "not here"). */
export function defineProvider(name: string, kind: DeviceKind, load: (ctx: ProviderContext) => Promise<LoadedBackend>): BackendProvider {
  return {
    name,
    kind,
    async load(ctx) {
      try {
        return { ok: true, ...(await load(ctx)) };
      } catch (e) {
        if (e instanceof BackendUnavailable) return { ok: false, reason: e.message, ...(e.install ? { install: e.install } : {}) };
        return { ok: false, reason: `${name} failed to load: ${firstLine(e)}` };
      }
    },
  };
}

/** Activates a registered tfjs backend, or throws BackendUnavailable saying why it did not initialise. */
export async function activate(tf: Tf, name: string, where = ''): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendUnavailable(`backend '${name}' failed to initialise${where}: ${firstLine(e)}`);
  }
  if (!ok) throw new BackendUnavailable(`backend '${name}' failed to initialise${where}`);
}

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
