#!/usr/bin/env node
// Builds the tudui-native addon (native/, oneDNN) with node-gyp, when oneDNN's headers and library are present.
//
// Run as `postinstall` (must never break `npm ci`: always exits 0, prints one line) and as `npm run build:native`
// (`--strict`: exits 1 when the addon cannot be built). Skips the build when the addon is newer than its sources
// (`--force` rebuilds anyway). TUDUI_SKIP_NATIVE=1 skips it entirely. The full node-gyp log goes to
// native/build/build-native.log.
//
// Needs: libdnnl-dev (Debian/Ubuntu: `apt-get install -y libdnnl-dev`), a C++17 compiler, make, python3.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = new Set(process.argv.slice(2));
const strict = args.has('--strict');
const force = args.has('--force');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const addon = path.join(nativeDir, 'build', 'Release', 'tudui_native.node');
const started = Date.now();

function done(ok, line) {
  console.log(`tudui: ${line}`);
  process.exit(ok || !strict ? 0 : 1);
}

function splitEnvPath(v) {
  return (v ?? '').split(path.delimiter).filter(Boolean);
}

function findFile(dirs, names) {
  for (const d of dirs) for (const n of names) {
    const f = path.join(d, n);
    if (fs.existsSync(f)) return f;
  }
  return undefined;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return [process.execPath, c];
  const which = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return [which.stdout.trim()];
  return undefined;
}

function upToDate() {
  if (!fs.existsSync(addon)) return false;
  const built = fs.statSync(addon).mtimeMs;
  const sources = [path.join(nativeDir, 'binding.gyp'), ...fs.readdirSync(path.join(nativeDir, 'src')).map((f) => path.join(nativeDir, 'src', f))];
  return sources.every((f) => fs.statSync(f).mtimeMs <= built);
}

try {
  if (process.env.TUDUI_SKIP_NATIVE === '1') done(true, 'native addon skipped (TUDUI_SKIP_NATIVE=1); the wasm backend will be used');
  if (!fs.existsSync(path.join(nativeDir, 'binding.gyp'))) done(false, 'native addon sources missing; the wasm backend will be used');
  if (!force && upToDate()) done(true, 'native addon (oneDNN) up to date');

  const incDirs = [...splitEnvPath(process.env.CPATH), ...splitEnvPath(process.env.CPLUS_INCLUDE_PATH), '/usr/include', '/usr/local/include'];
  const libDirs = [
    ...splitEnvPath(process.env.LIBRARY_PATH), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib',
    '/usr/local/lib', '/usr/local/lib64',
  ];
  const header = findFile(incDirs, ['oneapi/dnnl/dnnl.hpp']);
  const lib = findFile(libDirs, ['libdnnl.so', 'libdnnl.dylib']);
  if (!header || !lib) {
    done(false, `native addon not built: oneDNN ${!header ? 'headers' : 'library'} not found (apt-get install -y libdnnl-dev); the wasm backend will be used`);
  }
  const gyp = nodeGyp();
  if (!gyp) done(false, 'native addon not built: node-gyp not found; the wasm backend will be used');

  const gypArgs = ['rebuild'];
  // Distribution Node (e.g. Debian's /usr/bin/node) ships its headers: build against them instead of downloading.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    gypArgs.push(`--nodedir=${prefix}`);
  }
  const [cmd, ...pre] = gyp;
  const r = spawnSync(cmd, [...pre, ...gypArgs], { cwd: nativeDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const log = `$ ${[cmd, ...pre, ...gypArgs].join(' ')}\n${r.stdout ?? ''}\n${r.stderr ?? ''}${r.error ? `\n${r.error}` : ''}\n`;
  fs.mkdirSync(path.join(nativeDir, 'build'), { recursive: true });
  const logFile = path.join(nativeDir, 'build', 'build-native.log');
  fs.writeFileSync(logFile, log);
  if (r.status !== 0 || !fs.existsSync(addon)) {
    const err = (r.stderr ?? '').split('\n').find((l) => /error/i.test(l))?.trim() ?? `node-gyp exited with ${r.status}`;
    done(false, `native addon build failed (${err.slice(0, 160)}; log: ${path.relative(root, logFile)}); the wasm backend will be used`);
  }
  // Load it once here so a broken link (e.g. libdnnl.so.2 missing at run time) shows now rather than later.
  const check = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).info())`], { encoding: 'utf8' });
  if (check.status !== 0) {
    const err = (check.stderr ?? '').split('\n').find((l) => l.trim())?.trim() ?? 'load failed';
    done(false, `native addon built but does not load (${err.slice(0, 160)}); the wasm backend will be used`);
  }
  done(true, `native addon built in ${((Date.now() - started) / 1000).toFixed(1)} s (${check.stdout.trim()})`);
} catch (e) {
  done(false, `native addon not built: ${e instanceof Error ? e.message : String(e)}; the wasm backend will be used`);
}
