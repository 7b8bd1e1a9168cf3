/**
 * `tudui run --device gpu` end to end on the WebGPU path, compared with the same run on the CPU. Needs a WebGPU
 * adapter: a real GPU, or Mesa's lavapipe (`bash scripts/gpu-check.sh lavapipe`, used here when present, with
 * TUDUI_WEBGPU_ALLOW_SOFTWARE=1). Skips visibly otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');
const LAVAPIPE_ICD = '/opt/tudui-lavapipe/lvp.json';
const env: NodeJS.ProcessEnv = { ...process.env, TUDUI_WEBGPU_ALLOW_SOFTWARE: '1' };
if (!env.VK_DRIVER_FILES && !env.VK_ICD_FILENAMES && existsSync(LAVAPIPE_ICD)) env.VK_DRIVER_FILES = LAVAPIPE_ICD;

const devices = spawnSync(process.execPath, [BIN, 'devices', '--json'], { encoding: 'utf8', env });
const webgpu = (JSON.parse(devices.stdout || '[]') as Array<{ name: string; loads: boolean; reason?: string }>).find((d) => d.name === 'webgpu');
const available = Boolean(webgpu?.loads);

const EXPERIMENT = `
name: gpu-vs-cpu
seed: 5
dataset: { name: synthetic, shape: [8, 8, 3], classes: 3, train_size: 96, test_size: 48, batch_size: 16 }
model:
  layers:
    - conv2d: { filters: 4, kernel_size: 3, padding: 1 }
    - relu
    - maxpool2d: 2
    - flatten
    - linear: 3
optimizer: { name: sgd, lr: 0.05, momentum: 0.9 }
epochs: 2
log: { train_loss_every: 2 }
`;

describe(`tudui run --device gpu (WebGPU)${available ? '' : ` (skipped: ${webgpu?.reason ?? 'webgpu provider not listed'})`}`, () => {
  it.skipIf(!available)('trains on the GPU path and matches the CPU run', () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-gpu-'));
    writeFileSync(join(work, 'e.yaml'), EXPERIMENT);
    const losses: Record<string, number[]> = {};
    for (const device of ['gpu', 'cpu']) {
      const r = spawnSync(process.execPath, [BIN, 'run', 'e.yaml', '--device', device, '--runs-dir', device], { cwd: work, encoding: 'utf8', env });
      expect(r.status, r.stderr).toBe(0);
      if (device === 'gpu') expect(r.stdout).toMatch(/^device gpu: webgpu /m);
      const dir = join(work, device, 'gpu-vs-cpu');
      const run = join(dir, readdirSync(dir)[0]!);
      const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
      expect(summary.backend).toBe(device === 'gpu' ? 'webgpu' : summary.backend);
      losses[device] = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((p) => p.tag === 'train_loss' || p.tag === 'test_loss')
        .map((p) => p.value);
    }
    expect(losses.gpu!.length).toBe(losses.cpu!.length);
    losses.gpu!.forEach((v, i) => expect(Math.abs(v - losses.cpu![i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(losses.cpu![i]!))));
  });
});
