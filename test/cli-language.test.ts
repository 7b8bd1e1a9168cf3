/**
 * Issue 13: the experiment language and CLI, through the real CLI on real files (`node bin/tudui.js`; needs
 * `npx tsc -p .` first, `npm test` does it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin/tudui.js');

function tudui(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TUDUI_TRACE: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tudui-lang-'));
}

/** Writes files (path → text) under a new temporary directory and returns it. */
function files(tree: Record<string, string>): string {
  const dir = tmp();
  for (const [p, text] of Object.entries(tree)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

const SYNTH = (name: string, extra = '') => `name: ${name}
dataset: { name: synthetic, shape: [4, 4, 1], classes: 2, train_size: 8, test_size: 4, batch_size: 4 }
model:
  layers: [flatten, { linear: 2 }]
optimizer: { name: sgd, lr: 0.1 }
epochs: 1
${extra}`;

describe('globs and directories (validate and sweep share the expansion)', () => {
  const dir = files({ 'experiments/a.yaml': SYNTH('a'), 'experiments/b.yml': SYNTH('b'), 'experiments/notes.txt': 'x' });

  it('validate accepts a directory', () => {
    const r = tudui(['validate', 'experiments'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('experiments/a.yaml: ok\nexperiments/b.yml: ok\n');
    expect(r.code).toBe(0);
  });

  it('validate accepts a relative glob', () => {
    const r = tudui(['validate', 'experiments/*.yaml'], dir);
    expect(r.stdout).toBe('experiments/a.yaml: ok\n');
    expect(r.code).toBe(0);
  });

  it('validate and sweep accept an absolute glob', () => {
    const v = tudui(['validate', `${dir}/experiments/*.y*ml`], dir);
    expect(v.stdout).toBe('experiments/a.yaml: ok\nexperiments/b.yml: ok\n');
    const s = tudui(['sweep', `${dir}/experiments/*.yaml`, '--set', 'epochs=0'], dir);
    expect(s.out).not.toContain('no experiment files match');
    expect(s.stderr).toContain('epochs: expected a positive integer, received 0');
  });

  it('a glob that matches nothing and a missing file are one line each', () => {
    const r = tudui(['validate', 'nothing/*.yaml', 'missing.yaml', 'experiments/a.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('experiments/a.yaml: ok\n');
    expect(r.stderr).toContain('nothing/*.yaml: error: no experiment files match this pattern\n');
    expect(r.stderr).toContain('missing.yaml: error: no such file\n');
  });
});
