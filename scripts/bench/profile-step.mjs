// Profile of the tudui training step on tudui-native (the seed net, our loss and optimizer): median step time,
// forward+backward vs optimizer (incl. the loss read-back), and with KT=1 per-kernel times (KS=1: per input shape).
//   node scripts/bench/profile-step.mjs            (needs `npm run build`; N=steps, TUDUI_NATIVE_LAZY=0 etc. apply)
import * as tf from '@tensorflow/tfjs';
const root = new URL('../../dist', import.meta.url).pathname;
const { loadNativeBackend } = await import(`${root}/backends/native.js`);
const { seedExperiment, buildSeedNet } = await import(`${root}/model/seed-net.js`);
const { perExampleLoss } = await import(`${root}/train/loss.js`);
const { Optimizer } = await import(`${root}/train/optimizers.js`);
await loadNativeBackend(tf); await tf.setBackend('tudui-native');
const exp = seedExperiment();
const model = buildSeedNet(tf, exp);
const params = model.trainableWeights.map((w) => w.read());
const opt = new Optimizer(exp.optimizer);
const B = 64;
const xa = new Float32Array(B * 32 * 32 * 3).map(() => Math.random() * 2 - 1);
const ya = new Int32Array(B).map(() => (Math.random() * 10) | 0);
// kernel timing wrapper
const times = new Map();
const kernelTimes = process.env.KT === '1';
if (kernelTimes) {
  for (const k of tf.getKernelsForBackend('tudui-native')) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'tudui-native');
    tf.registerKernel({ ...k, kernelFunc: (a) => { const t = performance.now(); const r = f(a); const dt = performance.now() - t; const key = process.env.KS === '1' ? `${k.kernelName} ${Object.values(a.inputs).filter(Boolean).map((t) => t.shape.join('x')).join(',')}` : k.kernelName; const e = times.get(key) ?? [0, 0]; e[0] += dt; e[1]++; times.set(key, e); return r; } });
  }
}
const phase = new Map();
const ph = (n, t) => { phase.set(n, (phase.get(n) ?? 0) + t); };
function step() {
  const t0 = performance.now();
  const x = tf.tensor4d(xa, [B, 32, 32, 3]);
  const y = tf.tensor1d(ya, 'int32');
  const { value, grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true });
    return perExampleLoss(exp.loss, logits, y, 10).mean();
  }, params);
  const t1 = performance.now();
  const loss = value.dataSync()[0];
  opt.step(params, params.map((p) => grads[p.name]), 0.01);
  const t2 = performance.now();
  tf.dispose([value, ...Object.values(grads), x, y]);
  ph('fwdbwd', t1 - t0); ph('opt', t2 - t1);
  return loss;
}
const N = +(process.env.N ?? 30);
for (let i = 0; i < 5; i++) step();
times.clear(); phase.clear();
const ts = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) { const t = performance.now(); step(); ts.push(performance.now() - t); }
const cpu = process.cpuUsage(cpu0);
ts.sort((a, b) => a - b);
// CPU time (all threads, user + system) per step: less sensitive than wall time to a busy machine.
console.log('median step', ts[N >> 1].toFixed(2), 'min', ts[0].toFixed(2), 'cpu/step', ((cpu.user + cpu.system) / 1000 / N).toFixed(2), 'sys/step', (cpu.system / 1000 / N).toFixed(2));
for (const [k, v] of phase) console.log(k, (v / N).toFixed(2));
if (kernelTimes) {
  const rows = [...times].sort((a, b) => b[1][0] - a[1][0]);
  let tot = 0; for (const [, v] of rows) tot += v[0];
  console.log('kernel total ms/step', (tot / N).toFixed(2));
  for (const [k, v] of rows) console.log(k.padEnd(60), (v[0] / N).toFixed(3), (v[1] / N).toFixed(1));
}
console.log('tensors', tf.memory().numTensors);
