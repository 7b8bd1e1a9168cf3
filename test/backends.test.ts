import { describe, expect, it } from 'vitest';
import { PROVIDERS, listDevices, selectBackend } from '../src/backends/index.js';
import { isUserError } from '../src/errors.js';

describe('selectBackend', () => {
  it('lists the candidates best first, gpu before cpu, with an extension point per provider', () => {
    expect(PROVIDERS.map((p) => p.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'tudui-native', 'wasm', 'cpu']);
    expect(PROVIDERS.map((p) => p.kind)).toEqual(['gpu', 'gpu', 'cpu', 'cpu', 'cpu', 'cpu']);
  });

  it('cpu picks the fastest CPU backend that loads and says why the better ones were skipped', async () => {
    const lines: string[] = [];
    const sel = await selectBackend('cpu', { log: (l) => lines.push(l), threads: 2 });
    expect(sel.tf.getBackend()).toBe(sel.name);
    expect(['tensorflow', 'tudui-native', 'wasm']).toContain(sel.name);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^device cpu: using /);
    if (sel.name === 'wasm') {
      expect(sel.description).toMatch(/2 threads/);
      expect(lines[0]).toMatch(/skipped: tfjs-node: /);
    }
    const y = sel.tf.tidy(() => sel.tf.matMul(sel.tf.ones([2, 3]), sel.tf.ones([3, 2])).dataSync());
    expect(Array.from(y)).toEqual([3, 3, 3, 3]);
  });

  it('gpu without a GPU backend is a UserError naming what is missing, never a fallback', async () => {
    const devices = await listDevices();
    const gpuLoads = devices.some((d) => d.kind === 'gpu' && d.loads);
    if (gpuLoads) return; // this machine has a GPU: nothing to check here
    const err = await selectBackend('gpu').catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toMatch(/device gpu/);
    expect(msg).toMatch(/tfjs-node-gpu: /);
    expect(msg).toMatch(/webgpu: /);
    expect(msg).not.toMatch(/\n/);
  });

  it('rejects an unknown device', async () => {
    const err = await selectBackend('tpu' as 'cpu').catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
  });
});

describe('listDevices and `tudui devices`', () => {
  it('reports every candidate with loads/reason', async () => {
    const devices = await listDevices({ threads: 2 });
    expect(devices.map((d) => d.name)).toEqual(PROVIDERS.map((p) => p.name));
    for (const d of devices) {
      if (d.loads) expect(d.description).toBeTruthy();
      else expect(d.reason).toBeTruthy();
    }
    expect(devices.find((d) => d.name === 'cpu')!.loads).toBe(true);
    expect(devices.find((d) => d.name === 'wasm')!.loads).toBe(true);
  });

  it('devices --json prints the list', async () => {
    const { command } = await import('../src/cli/commands/devices.js');
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      chunks.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    let rc: number;
    try {
      rc = await command.run({ positionals: [], options: { json: true } });
    } finally {
      process.stdout.write = write;
    }
    expect(rc).toBe(0);
    const parsed = JSON.parse(chunks.join('')) as Array<{ name: string; loads: boolean }>;
    expect(parsed.find((d) => d.name === 'wasm')?.loads).toBe(true);
  });
});
