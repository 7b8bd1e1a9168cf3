/** Run directories for the board's tests, in the on-disk format of src/run/layout.ts, and a browser to look at them. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { MetricPoint, RunSummary } from '../src/run/layout.js';

/** Debian's chromium binary (the /usr/bin/chromium wrapper script sets flags we pass ourselves). */
export const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM!, args: CHROMIUM_ARGS, headless: true });
}

export interface FakeRun {
  status?: RunSummary['status'];
  epochs?: number;
  stepsPerEpoch?: number;
  /** train_loss points (one every step); epoch tags come once per epoch. */
  steps?: number;
  loss?: (step: number) => number;
  seed?: number;
  lr?: number;
}

export function points(run: FakeRun, t0 = 1_796_000_000): MetricPoint[] {
  const spe = run.stepsPerEpoch ?? 10;
  const epochs = run.epochs ?? 2;
  const steps = run.steps ?? spe * epochs;
  const loss = run.loss ?? ((s: number) => 2 / (1 + s / 50));
  const out: MetricPoint[] = [];
  for (let s = 1; s <= steps; s++) {
    const epoch = Math.ceil(s / spe);
    out.push({ tag: 'train_loss', value: loss(s), step: s, epoch, wall_time: t0 + s * 0.01 });
    if (s % spe === 0) {
      out.push({ tag: 'test_loss', value: loss(s) * 1.1, step: epoch, epoch, wall_time: t0 + s * 0.01 });
      out.push({ tag: 'test_accuracy', value: 1 - loss(s) / 3, step: epoch, epoch, wall_time: t0 + s * 0.01 });
    }
  }
  return out;
}

export const line = (p: MetricPoint) => JSON.stringify(p) + '\n';

/** A run directory with summary.json, config.yaml and metrics.jsonl; a `running` one gets a lock held by this process. */
export function writeRun(dir: string, name: string, run: FakeRun = {}): string {
  mkdirSync(dir, { recursive: true });
  const pts = points(run);
  const spe = run.stepsPerEpoch ?? 10;
  const epochs = run.epochs ?? 2;
  const last = (tag: string) => [...pts].reverse().find((p) => p.tag === tag)?.value ?? NaN;
  const status = run.status ?? 'completed';
  const summary = {
    name,
    status,
    run_dir: dir,
    seed: run.seed ?? 0,
    epochs,
    epochs_completed: status === 'running' ? 0 : epochs,
    global_step: pts.filter((p) => p.tag === 'train_loss').length,
    final: { train_loss: last('train_loss'), test_loss: last('test_loss'), test_accuracy: last('test_accuracy') },
    best: { metric: 'test_accuracy', value: last('test_accuracy'), epoch: epochs },
    durations: { total_s: 12.5, epochs_s: [] },
    throughput: { train_images_per_s: 1234, eval_images_per_s: 5000 },
    started_at: '2026-12-01T10:00:00.000Z',
    finished_at: '2026-12-01T10:00:12.500Z',
    host: hostname(),
    pid: process.pid,
    backend: 'tudui-native',
    history: Array.from({ length: status === 'running' ? 0 : epochs }, (_, i) => ({ epoch: i + 1, global_step: (i + 1) * spe })),
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(dir, 'config.original.yaml'), `name: ${name}\nseed: ${run.seed ?? 0}\noptimizer:\n  name: sgd\n  lr: ${run.lr ?? 0.1}\nepochs: ${epochs}\n`);
  writeFileSync(join(dir, 'config.yaml'), `name: ${name}\nseed: ${run.seed ?? 0}\noptimizer:\n  name: sgd\n  lr: ${run.lr ?? 0.1}\nepochs: ${epochs}\n`);
  writeFileSync(join(dir, 'metrics.jsonl'), status === 'running' ? '' : pts.map(line).join(''));
  if (status === 'running') writeFileSync(join(dir, 'tudui.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started_at: summary.started_at, command: 'test' }));
  return dir;
}
