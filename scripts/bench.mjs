#!/usr/bin/env node
// `npm run bench`: training and evaluation throughput of the tudui seed network on each available CPU backend,
// against PyTorch on the same machine in the same run.
//
//   node scripts/bench.mjs [--steps 20] [--warmup 3] [--rounds 5] [--batch 64] [--eval-batch N]
//                          [--backends tudui-native,wasm,tensorflow,torch] [--threads N] [--json]
//
// Seed net: conv5x5·32 pad2 → maxpool2 → conv5x5·32 pad2 → maxpool2 → conv5x5·64 pad2 → maxpool2 → flatten →
// linear 64 → linear 10, SGD, softmax cross-entropy, synthetic CIFAR-shaped data. The tfjs backends build it from
// experiments/cifar10-sgd.yaml with our compiler (src/model/seed-net.ts) and time the training loop's own step
// (src/train/loop.ts trainStep: our loss, our PyTorch-exact optimizer, loss read back every step). Every (round, backend) runs in
// its own child process (clean peak RSS, no cross-talk); rounds interleave the backends in a rotating order and
// the reported figure is the median over rounds of each round's median step time, since shared machines are noisy.
// The cpu backend (pure JS, minutes per step) runs only when listed explicitly. Needs `npm run build` (dist/).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { childMain } from './bench/child.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const here = fileURLToPath(import.meta.url);

function parseArgs(argv) {
  const o = { steps: 20, warmup: 3, rounds: 5, batch: 64, evalBatch: undefined, backends: undefined, threads: undefined, json: false, child: undefined, channelsLast: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const key = a.split('=')[0];
    switch (key) {
      case '--steps': o.steps = +val(); break;
      case '--warmup': o.warmup = +val(); break;
      case '--rounds': o.rounds = +val(); break;
      case '--batch': o.batch = +val(); break;
      case '--eval-batch': o.evalBatch = +val(); break;
      case '--backends': o.backends = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--threads': o.threads = +val(); break;
      case '--json': o.json = true; break;
      case '--child': o.child = val(); break;
      case '--torch-channels-last': o.channelsLast = true; break;
      case '-h': case '--help':
        console.log(fs.readFileSync(here, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  for (const k of ['steps', 'rounds', 'batch']) if (!(Number.isInteger(o[k]) && o[k] > 0)) throw new Error(`--${k} must be a positive integer`);
  o.evalBatch ??= o.batch;
  return o;
}

const median = (xs) => {
  const s = [...xs].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The python with torch: /usr/bin/python3 first (Debian's python3-torch), then python3 on PATH. */
function findTorchPython() {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python: py, version: r.stdout.trim() };
  }
  return undefined;
}

function tfjsNodeInstalled() {
  try {
    createRequire(path.join(root, 'package.json')).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

function runChild(cmd, args, env) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => {
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code === 0 && line) {
        try {
          resolve(JSON.parse(line));
          return;
        } catch { /* fall through */ }
      }
      const why = (err.trim().split('\n').filter((l) => l.trim() && !/^\s+at /.test(l)).pop() ?? `exit code ${code}`).slice(0, 200);
      resolve({ error: why });
    });
  });
}

function fmt(v, digits = 1) {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) {
    await childMain(o, root);
    return;
  }
  const log = o.json ? () => {} : (s) => process.stderr.write(s + '\n');
  const torch = findTorchPython();
  let backends = o.backends;
  if (!backends) {
    backends = ['tudui-native', 'wasm'];
    if (tfjsNodeInstalled()) backends.push('tensorflow');
    if (torch) backends.push('torch');
  }
  const distOk = fs.existsSync(path.join(root, 'dist', 'backends', 'native.js'));
  if (!distOk && backends.some((b) => b === 'tudui-native' || b === 'wasm')) {
    log('note: dist/ is missing or stale; run `npm run build` first (the tudui-native and wasm loaders come from dist/backends)');
  }
  log(`bench: seed net, batch ${o.batch} (eval ${o.evalBatch}), ${o.steps} steps after ${o.warmup} warm-up, ${o.rounds} rounds, ` +
    `${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);

  const results = Object.fromEntries(backends.map((b) => [b, { rounds: [], errors: [] }]));
  for (let r = 0; r < o.rounds; r++) {
    const order = backends.map((_, i) => backends[(i + r) % backends.length]);
    for (const b of order) {
      let res;
      if (b === 'torch') {
        if (!torch) {
          res = { error: 'PyTorch not importable (apt-get install -y python3-torch)' };
        } else {
          const args = [path.join(root, 'bench', 'torch_reference.py'), '--batch', String(o.batch), '--eval-batch', String(o.evalBatch),
            '--steps', String(o.steps), '--warmup', String(o.warmup), '--threads', String(o.threads ?? os.cpus().length)];
          if (o.channelsLast) args.push('--channels-last');
          res = await runChild(torch.python, args, {});
        }
      } else {
        const args = [here, '--child', b, '--steps', String(o.steps), '--warmup', String(o.warmup), '--batch', String(o.batch),
          '--eval-batch', String(o.evalBatch)];
        if (o.threads) args.push('--threads', String(o.threads));
        res = await runChild(process.execPath, args, {});
      }
      if (res.error) {
        results[b].errors.push(res.error);
        log(`  round ${r + 1} ${b}: unavailable: ${res.error}`);
        continue;
      }
      const tr = median(res.trainMs), ev = median(res.evalMs);
      results[b].rounds.push({ train: tr, eval: ev, rss: res.maxRssKB, pipeline: res.pipelineMs, description: res.description });
      log(`  round ${r + 1} ${b}: train ${fmt(tr)} ms/step, eval ${fmt(ev)} ms/batch, peak RSS ${fmt(res.maxRssKB / 1024, 0)} MB`);
    }
    // Backends that could not start at all are not retried every round.
    for (const b of [...backends]) if (results[b].rounds.length === 0 && results[b].errors.length > 0) backends.splice(backends.indexOf(b), 1);
    if (backends.length === 0) break;
  }

  const rows = [];
  const torchRow = results.torch?.rounds.length ? results.torch : undefined;
  const torchTrain = torchRow ? median(torchRow.rounds.map((x) => x.train)) : NaN;
  const torchEval = torchRow ? median(torchRow.rounds.map((x) => x.eval)) : NaN;
  for (const [b, v] of Object.entries(results)) {
    if (v.rounds.length === 0) {
      rows.push({ backend: b, available: false, reason: v.errors[0] });
      continue;
    }
    const train = median(v.rounds.map((x) => x.train));
    const evalMs = median(v.rounds.map((x) => x.eval));
    const pipeline = median(v.rounds.map((x) => x.pipeline));
    rows.push({
      backend: b,
      available: true,
      description: v.rounds[0].description,
      rounds: v.rounds.length,
      trainMsPerStep: train,
      trainImagesPerSec: (o.batch * 1000) / train,
      evalMsPerBatch: evalMs,
      evalImagesPerSec: (o.evalBatch * 1000) / evalMs,
      peakRssMB: Math.max(...v.rounds.map((x) => x.rss)) / 1024,
      trainRatioVsTorch: torchTrain / train,
      evalRatioVsTorch: torchEval / evalMs,
      trainMsPerStepRounds: v.rounds.map((x) => x.train),
      evalMsPerBatchRounds: v.rounds.map((x) => x.eval),
      ...(Number.isFinite(pipeline) ? { inputPipelineMsPerBatch: pipeline, inputPipelineShareOfStep: pipeline / train } : {}),
    });
  }
  const summary = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() },
    config: { batch: o.batch, evalBatch: o.evalBatch, steps: o.steps, warmup: o.warmup, rounds: o.rounds },
    results: rows,
  };
  if (o.json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  const head = ['backend', 'train ms/step', 'train img/s', 'eval ms/batch', 'eval img/s', 'peak RSS MB', 'train vs torch', 'eval vs torch', 'input pipeline'];
  const body = rows.map((r) => r.available
    ? [r.backend, fmt(r.trainMsPerStep), fmt(r.trainImagesPerSec, 0), fmt(r.evalMsPerBatch), fmt(r.evalImagesPerSec, 0), fmt(r.peakRssMB, 0),
      `${fmt(r.trainRatioVsTorch, 2)}×`, `${fmt(r.evalRatioVsTorch, 2)}×`,
      r.inputPipelineShareOfStep !== undefined ? `${fmt(r.inputPipelineMsPerBatch, 2)} ms (${fmt(100 * r.inputPipelineShareOfStep)}%)` : '—']
    : [r.backend, `unavailable: ${r.reason}`, '', '', '', '', '', '', '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[1].startsWith('unavailable') && i > 0 ? 0 : row[i].length))));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const row of body) console.log(row[1].startsWith('unavailable') ? `${row[0].padEnd(widths[0])}  ${row[1]}` : line(row));
  for (const r of rows) if (r.available) console.log(`  ${r.backend}: ${r.description}`);
  console.log('ratios: PyTorch ms / backend ms (> 1 means faster than PyTorch); medians over rounds of per-round medians.');
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
