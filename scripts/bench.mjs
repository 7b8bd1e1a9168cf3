#!/usr/bin/env node
// `npm run bench`: a zoo of tudui networks, training and evaluation throughput on each available CPU backend,
// against their PyTorch twins on the same machine in the same run.
//
//   node scripts/bench.mjs [--nets seed,adamw,resnet9,resnet,fashion,mlp] [--backends tudui-native,wasm,torch,torch-cl]
//                          [--steps 10] [--big-steps 4] [--warmup 2] [--rounds 3] [--max-seconds 20]
//                          [--threads N] [--wait-quiet S] [--json]
//
// Nets (each a tudui experiment file; batch sizes, optimizers and losses are the files' own):
//   seed     experiments/cifar10-sgd.yaml            3×conv5x5 + maxpool, 2 linear; batch 64, SGD
//   adamw    experiments/cifar10-adamw-augment.yaml  conv/batchnorm/gelu/leaky_relu, stride-2 conv, avgpool, global
//                                                    avg pool, dropout; batch 128, AdamW, label smoothing 0.1
//   resnet9  bench/zoo/resnet9-noskip.yaml           ResNet-9 backbone without skips, 32-64-128-256; batch 256,
//                                                    SGD nesterov + weight decay
//   resnet   experiments/cifar10-resnet.yaml         the recipe: ResNet-9 at half width with its two residual blocks
//                                                    (blocks, functional model); batch 256, SGD nesterov + weight decay
//   fashion  experiments/fashion-mnist-cnn.yaml      2×conv/batchnorm/relu/maxpool, dropout; batch 64 (eval 256), Adam
//   mlp      experiments/mnist-mlp.yaml              flatten, 256-128-10 MLP with dropout; batch 128, SGD nesterov
// The tfjs backends build each net with our compiler (loadExperiment + datasetInfo + buildModel) and time the
// training loop's own step (src/train/loop.ts trainStep: our loss, our PyTorch-exact optimizer, loss read back every
// step) on synthetic data; eval is model.predict + argMax read back at dataset.eval_batch_size. PyTorch runs the
// same resolved experiment through bench/torch_zoo.py (an equivalent nn.Sequential, loss and optimizer) "at its
// best": OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS unset, torch.set_num_threads(--threads or cpu count), as two
// backends: `torch` (NCHW) and `torch-cl` (channels_last); per net the reference is the faster of the two, for
// training and for evaluation separately. Ratio = PyTorch best ms / ours ms (> 1: faster than PyTorch).
//
// Every (round, net, backend) runs in its own child process (clean peak RSS, no cross-talk); rounds interleave the
// backends in a rotating order and each figure is the median over rounds of that round's median step time, since
// shared machines are noisy. --steps timed steps per child (--big-steps for adamw, resnet9 and resnet), after --warmup.
// --max-seconds bounds each child's measurement (0: no bound): warm-up until 15% of it, timed training until 60%,
// eval until 95%, at least one step each; a child that hits it is marked †, and one that would have needed more than
// twice the budget runs in the first round only (slow backends, e.g. wasm on the big nets). The bench samples the
// CPU use of other processes before every child and says how many started on a busy machine (OpenMP backends,
// PyTorch most, slow down up to 10× when another process takes a core); --wait-quiet S waits up to S seconds per
// child for the machine to go quiet first. For tudui-native the last column counts the kernel calls per training step
// that fell back to tfjs's generic cpu code (nativeKernelStats of dist/backends/native.js; n/a where not exported).
// Backends: tudui-native, wasm, tensorflow (default when @tensorflow/tfjs-node resolves), torch and torch-cl (default
// when `python3 -c 'import torch'` works), cpu (pure JS, very slow: only when listed). Needs `npm run build` (dist/).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childMain } from './bench/child.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const here = fileURLToPath(import.meta.url);

/** The zoo: name -> experiment file (relative to the package root); `big` nets time --big-steps steps. */
export const NETS = {
  seed: { file: 'experiments/cifar10-sgd.yaml' },
  adamw: { file: 'experiments/cifar10-adamw-augment.yaml', big: true },
  resnet9: { file: 'bench/zoo/resnet9-noskip.yaml', big: true },
  resnet: { file: 'experiments/cifar10-resnet.yaml', big: true },
  fashion: { file: 'experiments/fashion-mnist-cnn.yaml' },
  mlp: { file: 'experiments/mnist-mlp.yaml' },
};
const TORCH_BACKENDS = ['torch', 'torch-cl'];
const TFJS_BACKENDS = ['tudui-native', 'wasm', 'tensorflow', 'cpu'];

function parseArgs(argv) {
  const o = {
    nets: undefined, backends: undefined, steps: 10, bigSteps: undefined, warmup: 2, rounds: 3, maxSeconds: 20,
    waitQuiet: 0, threads: undefined, json: false, child: undefined, net: undefined, file: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const list = () => val().split(',').map((s) => s.trim()).filter(Boolean);
    switch (a.split('=')[0]) {
      case '--nets': o.nets = list(); break;
      case '--backends': o.backends = list(); break;
      case '--steps': o.steps = +val(); break;
      case '--big-steps': o.bigSteps = +val(); break;
      case '--warmup': o.warmup = +val(); break;
      case '--rounds': o.rounds = +val(); break;
      case '--max-seconds': o.maxSeconds = +val(); break;
      case '--threads': o.threads = +val(); break;
      case '--wait-quiet': o.waitQuiet = +val(); break;
      case '--json': o.json = true; break;
      case '--child': o.child = val(); break; // internal: one (net, backend) measurement
      case '--net': o.net = val(); break; // internal
      case '--file': o.file = val(); break; // internal
      case '-h': case '--help':
        console.log(fs.readFileSync(here, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown option ${a} (--help lists them)`);
    }
  }
  o.bigSteps ??= Math.min(o.steps, 4);
  for (const k of ['steps', 'bigSteps', 'rounds']) if (!(Number.isInteger(o[k]) && o[k] > 0)) throw new Error(`--${k.replace('S', '-s')} must be a positive integer`);
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new Error('--warmup must be an integer ≥ 0');
  if (!(o.waitQuiet >= 0)) throw new Error('--wait-quiet must be ≥ 0 seconds');
  if (!(o.maxSeconds >= 0)) throw new Error('--max-seconds must be ≥ 0 (0: no bound)');
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads > 0)) throw new Error('--threads must be a positive integer');
  o.nets ??= Object.keys(NETS);
  for (const n of o.nets) if (!NETS[n]) throw new Error(`unknown net '${n}' (${Object.keys(NETS).join(', ')})`);
  for (const b of o.backends ?? []) {
    if (![...TFJS_BACKENDS, ...TORCH_BACKENDS].includes(b)) throw new Error(`unknown backend '${b}' (${[...TFJS_BACKENDS, ...TORCH_BACKENDS].join(', ')})`);
  }
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

function cpuTimes() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/** CPUs kept busy by other processes: sampled for `ms` between children, when nothing of ours runs (Linux only). */
async function othersBusyCpus(ms = 200) {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (!a || !b || b.total <= a.total) return NaN;
  return (1 - (b.idle - a.idle) / (b.total - a.total)) * os.cpus().length;
}

/** Runs one child; resolves to its last JSON line, or { error }. Killed (SIGKILL) after timeoutMs. */
function runChild(cmd, args, env, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', killed = false;
    const timer = timeoutMs ? setTimeout(() => { killed = true; p.kill('SIGKILL'); }, timeoutMs) : undefined;
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => {
      clearTimeout(timer);
      if (killed) {
        resolve({ error: `killed after ${(timeoutMs / 1000).toFixed(0)} s (over its --max-seconds budget)` });
        return;
      }
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

/** The resolved experiment, input shape and classes of each net (dist/config, dist/data). */
async function loadNets(names) {
  const need = (rel) => {
    const f = path.join(root, 'dist', rel);
    if (!fs.existsSync(f)) throw new Error(`dist/${rel} missing: run \`npm run build\` first`);
    return import(pathToFileURL(f).href);
  };
  const { loadExperiment } = await need('config/index.js');
  const { planModel, planToJson } = await need('config/blocks.js');
  const { datasetInfo } = await need('data/index.js');
  const out = {};
  for (const n of names) {
    const file = NETS[n].file;
    const r = loadExperiment(file, { cwd: root });
    if (r.errors.length) throw new Error(`${file}: ${r.errors.map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`).join('; ')}`);
    const info = datasetInfo(r.experiment.dataset, { cwd: root });
    if (!info) throw new Error(`${file}: no input shape for dataset ${r.experiment.dataset.name}`);
    const exp = r.experiment;
    out[n] = {
      file, exp, inputShape: [info.height, info.width, info.channels], classes: info.classes,
      // The PyTorch twin's layers: blocks, repeats and residuals expanded (a flat list plans to itself).
      layers: planToJson(planModel(exp.model, [info.height, info.width, info.channels]).nodes),
      batch: exp.dataset.batch_size, evalBatch: exp.dataset.eval_batch_size ?? exp.dataset.batch_size,
    };
  }
  return out;
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
    if (torch) backends.push(...TORCH_BACKENDS);
  }
  const nets = await loadNets(o.nets);
  const stepsOf = (n) => (NETS[n].big ? o.bigSteps : o.steps);
  const cpus = os.cpus();
  const threads = o.threads ?? cpus.length;
  const machine = { cpus: cpus.length, model: cpus[0]?.model ?? '?', node: process.version, loadavg: os.loadavg() };
  const header = `bench: ${machine.cpus} cpus (${machine.model}), load ${machine.loadavg.map((v) => v.toFixed(2)).join(' ')}; ` +
    `nets ${o.nets.join(', ')}; ${o.steps} steps (${o.bigSteps} for adamw, resnet9, resnet) after ${o.warmup} warm-up, ${o.rounds} round${o.rounds === 1 ? '' : 's'}, ` +
    `${o.maxSeconds ? `≤ ${o.maxSeconds} s per child` : 'no time bound'}`;
  log(`${header}\n  (progress here on stderr, the table on stdout at the end)`);

  // The resolved experiments for the PyTorch twin, one temp file per net.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tudui-bench-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.on('exit', cleanup);
  for (const [n, v] of Object.entries(nets)) {
    fs.writeFileSync(path.join(tmp, `${n}.json`), JSON.stringify({ experiment: v.exp, layers: v.layers, inputShape: v.inputShape, classes: v.classes }));
  }
  // PyTorch at its best: one BLAS thread inside each of PyTorch's OpenMP threads (OpenBLAS's own pthreads would
  // fight them), OMP_NUM_THREADS unset so set_num_threads decides.
  const torchEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' };
  delete torchEnv.OMP_NUM_THREADS;
  const timeoutMs = o.maxSeconds ? (2 * o.maxSeconds + 120) * 1000 : 0;

  const key = (n, b) => `${n}\u0000${b}`;
  const results = new Map(o.nets.flatMap((n) => backends.map((b) => [key(n, b), { rounds: [], errors: [], capped: false }])));
  const dead = new Map(); // backends that could not start at all -> why
  const busyRuns = []; // child runs that started while other processes kept a core busy
  let childRuns = 0;
  for (let r = 0; r < o.rounds; r++) {
    for (const [ni, n] of o.nets.entries()) {
      const order = backends.map((_, i) => backends[(i + r + ni) % backends.length]);
      for (const b of order) {
        const res0 = results.get(key(n, b));
        if (dead.has(b)) continue;
        if (r > 0 && res0.rounds.length === 0 && !res0.retry) continue; // failed for this net in round 1: not retried
        if (res0.slow) continue; // far over --max-seconds in round 1: first round only
        const steps = stepsOf(n);
        let busyCpus = await othersBusyCpus();
        for (const t0 = Date.now(); busyCpus >= 0.5 && Date.now() - t0 < o.waitQuiet * 1000;) busyCpus = await othersBusyCpus(1000);
        childRuns++;
        if (busyCpus >= 0.5) busyRuns.push({ net: n, backend: b, round: r + 1, busyCpus, what: `${n} ${b}` });
        let res;
        if (TORCH_BACKENDS.includes(b)) {
          if (!torch) {
            res = { error: 'PyTorch not importable (apt-get install -y python3-torch libopenblas0-pthread)', fatal: true };
          } else {
            const args = [path.join(root, 'bench', 'torch_zoo.py'), path.join(tmp, `${n}.json`), '--steps', String(steps),
              '--warmup', String(o.warmup), '--threads', String(threads), '--max-seconds', String(o.maxSeconds)];
            if (b === 'torch-cl') args.push('--channels-last');
            res = await runChild(torch.python, args, torchEnv, timeoutMs);
          }
        } else {
          const args = [here, '--child', b, '--net', n, '--file', nets[n].file, '--steps', String(steps),
            '--warmup', String(o.warmup), '--max-seconds', String(o.maxSeconds)];
          if (o.threads) args.push('--threads', String(o.threads));
          res = await runChild(process.execPath, args, process.env, timeoutMs);
        }
        if (res.error) {
          res0.errors.push(res.error);
          log(`  round ${r + 1} ${n} ${b}: unavailable: ${res.error}`);
          if (res.fatal || /missing: run `npm run build`/.test(res.error)) {
            // A backend that never started is not tried again; one that worked earlier in this run (an addon being
            // rebuilt meanwhile, say) is retried in the next rounds.
            if (o.nets.some((m) => results.get(key(m, b)).rounds.length > 0)) res0.retry = true;
            else dead.set(b, res.error);
          }
          continue;
        }
        const tr = median(res.trainMs), ev = median(res.evalMs);
        res0.rounds.push({
          train: tr, eval: ev, rss: res.maxRssKB, busyCpusBefore: busyCpus, pipeline: res.pipelineMs, description: res.description,
          trainSteps: res.trainMs.length, evalSteps: res.evalMs.length, fallback: res.fallback, trainMs: res.trainMs, evalMs: res.evalMs,
        });
        if (res.capped) {
          res0.capped = true;
          // What the uncapped child would have taken: more than twice the budget means a slow backend (wasm on the
          // big nets), not a noisy moment; it is not rerun in later rounds.
          const full = (Math.max(1, o.warmup) + steps) * (tr + ev);
          if (full > 2 * o.maxSeconds * 1000) res0.slow = true;
        }
        log(`  round ${r + 1} ${n} ${b}: train ${fmt(tr)} ms/step (${res.trainMs.length}), eval ${fmt(ev)} ms/batch (${res.evalMs.length}), ` +
          `peak RSS ${fmt(res.maxRssKB / 1024, 0)} MB${res.fallback ? `, fallback ${res.fallback.text}` : ''}${res.capped ? ', capped' : ''}`);
      }
    }
  }

  const netRows = [];
  const descriptions = {};
  for (const n of o.nets) {
    const { batch, evalBatch, file } = nets[n];
    const rows = [];
    for (const b of backends) {
      const v = results.get(key(n, b));
      if (v.rounds.length === 0) {
        rows.push({ backend: b, available: false, reason: v.errors[0] ?? dead.get(b) ?? 'not run' });
        continue;
      }
      const train = median(v.rounds.map((x) => x.train));
      const evalMs = median(v.rounds.map((x) => x.eval));
      const pipeline = median(v.rounds.map((x) => x.pipeline));
      descriptions[b] ??= v.rounds[0].description;
      const fb = v.rounds[0].fallback;
      rows.push({
        backend: b,
        available: true,
        description: v.rounds[0].description,
        rounds: v.rounds.length,
        capped: v.capped,
        trainSteps: v.rounds.map((x) => x.trainSteps),
        evalSteps: v.rounds.map((x) => x.evalSteps),
        trainMsPerStep: train,
        trainImagesPerSec: (batch * 1000) / train,
        evalMsPerBatch: evalMs,
        evalImagesPerSec: (evalBatch * 1000) / evalMs,
        peakRssMB: Math.max(...v.rounds.map((x) => x.rss)) / 1024,
        trainMsPerStepRounds: v.rounds.map((x) => x.train),
        evalMsPerBatchRounds: v.rounds.map((x) => x.eval),
        trainMsPerStepAll: v.rounds.map((x) => x.trainMs),
        evalMsPerBatchAll: v.rounds.map((x) => x.evalMs),
        othersBusyCpusBeforeRounds: v.rounds.map((x) => x.busyCpusBefore),
        ...(Number.isFinite(pipeline) ? { inputPipelineMsPerBatch: pipeline, inputPipelineShareOfStep: pipeline / train } : {}),
        ...(fb ? { fallbackPerStep: fb.perStep ?? null, fallbackKernelsPerStep: fb.kernels ?? null, fallbackText: fb.text, fallbackRounds: v.rounds.map((x) => x.fallback) } : {}),
      });
    }
    // The PyTorch reference: the faster of torch / torch-cl, for training and evaluation separately.
    const best = (field) => rows.filter((r) => r.available && TORCH_BACKENDS.includes(r.backend))
      .reduce((a, r) => (a === undefined || r[field] < a[field] ? r : a), undefined);
    const bt = best('trainMsPerStep'), be = best('evalMsPerBatch');
    for (const r of rows) {
      if (!r.available) continue;
      r.trainRatioVsTorch = bt ? bt.trainMsPerStep / r.trainMsPerStep : null;
      r.evalRatioVsTorch = be ? be.evalMsPerBatch / r.evalMsPerBatch : null;
    }
    netRows.push({
      net: n, file, batch, evalBatch, steps: stepsOf(n),
      reference: {
        train: bt ? { backend: bt.backend, msPerStep: bt.trainMsPerStep } : null,
        eval: be ? { backend: be.backend, msPerBatch: be.evalMsPerBatch } : null,
      },
      results: rows,
    });
  }
  const legend = 'ratio = PyTorch best ms / ours ms (> 1: faster than PyTorch; best = faster of torch and torch-cl, ' +
    'train and eval separately, "ref" marks it); medians over rounds of per-round medians; † = capped by --max-seconds.';
  const summary = {
    machine,
    config: { nets: o.nets, backends, steps: o.steps, bigSteps: o.bigSteps, warmup: o.warmup, rounds: o.rounds, maxSeconds: o.maxSeconds, waitQuiet: o.waitQuiet, threads },
    header,
    nets: netRows,
    descriptions,
    legend,
    contention: { childRuns, busyRuns },
  };
  if (o.json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }

  const ratio = (r, field, refField) => {
    const v = r[field];
    if (v === null || v === undefined) return '—';
    return `${fmt(v, 2)}×${refField ? ' ref' : ''}`;
  };
  const head = ['net', 'backend', 'train img/s', 'eval img/s', 'peak RSS MB', 'train vs PT', 'eval vs PT', 'input pipeline', 'fallback kernels'];
  const body = [];
  const notes = [];
  for (const nr of netRows) {
    for (const r of nr.results) {
      if (!r.available) {
        body.push({ unavailable: true, cells: [nr.net, r.backend, `unavailable: ${r.reason}`] });
        continue;
      }
      if (r.capped) {
        notes.push(`† ${nr.net} ${r.backend}: capped at ${o.maxSeconds} s: ${r.trainSteps.join('/')} of ${nr.steps} timed train steps, ` +
          `${r.evalSteps.join('/')} of ${nr.steps} eval batches${r.rounds === 1 && o.rounds > 1 ? ', first round only (too slow to repeat)' : ` (${r.rounds} rounds)`}`);
      }
      body.push({
        cells: [
          nr.net, `${r.backend}${r.capped ? ' †' : ''}`, fmt(r.trainImagesPerSec, 0), fmt(r.evalImagesPerSec, 0), fmt(r.peakRssMB, 0),
          ratio(r, 'trainRatioVsTorch', nr.reference.train?.backend === r.backend),
          ratio(r, 'evalRatioVsTorch', nr.reference.eval?.backend === r.backend),
          r.inputPipelineMsPerBatch !== undefined ? `${fmt(r.inputPipelineMsPerBatch, 2)} ms (${fmt(100 * r.inputPipelineShareOfStep)}%)` : '—',
          r.fallbackText ?? '—',
        ],
      });
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter((row) => !row.unavailable || i < 2).map((row) => row.cells[i].length)));
  const left = new Set([0, 1, 8]);
  const line = (cells) => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(header);
  console.log(line(head));
  let prev;
  for (const row of body) {
    const cells = [...row.cells];
    if (cells[0] === prev) cells[0] = '';
    else prev = cells[0];
    console.log(row.unavailable ? `${cells[0].padEnd(widths[0])}  ${cells[1].padEnd(widths[1])}  ${cells[2]}` : line(cells));
  }
  for (const nt of notes) console.log(nt);
  console.log('nets:');
  for (const nr of netRows) {
    const ref = (x, unit) => (x ? `${x.backend} ${fmt(x[unit])} ms` : '—');
    console.log(`  ${nr.net}: ${nr.file}, batch ${nr.batch} (eval ${nr.evalBatch}), ${nr.steps} steps; PyTorch best: train ${ref(nr.reference.train, 'msPerStep')}/step, eval ${ref(nr.reference.eval, 'msPerBatch')}/batch`);
  }
  console.log('backends:');
  for (const [b, d] of Object.entries(descriptions)) console.log(`  ${b}: ${d}`);
  console.log(legend);
  if (busyRuns.length) {
    console.log(`note: other processes kept ≥ 0.5 cpu busy just before ${busyRuns.length} of ${childRuns} child runs ` +
      `(up to ${fmt(Math.max(...busyRuns.map((x) => x.busyCpus)), 1)} cpus: ${[...new Set(busyRuns.map((x) => x.what))].slice(0, 6).join(', ')}${busyRuns.length > 6 ? ', …' : ''}); ` +
      'OpenMP backends (PyTorch most) slow down sharply when a core is taken: those figures are unreliable, rerun on a quiet machine.');
  }
}

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
