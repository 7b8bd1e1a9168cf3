/**
 * Ctrl-C during `tudui sweep`: the running member checkpoints, the rest stay pending, exit 130; `--resume` then
 * finishes every member, continuing the interrupted one from its checkpoint, with the same metrics as a clean sweep.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tudui.js');
const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };

// Long enough per epoch (about a second here) that the interrupt lands inside the first member.
const GRID = readFileSync(join(ROOT, 'test', 'fixtures', 'sweep', 'slow', 'slow-grid.yaml'), 'utf8');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const metrics = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((p) => p.tag !== 'throughput')
    .map((p) => `${p.tag}@${p.step}=${p.value}`);

describe('tudui sweep and Ctrl-C', () => {
  it('interrupts cleanly and resumes to the same results as an uninterrupted sweep', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tudui-sweep-int-'));
    writeFileSync(join(work, 'grid.yaml'), GRID);

    const clean = spawnSync(process.execPath, [BIN, 'sweep', 'grid.yaml', '--runs-dir', 'clean', '--plain'], { cwd: work, encoding: 'utf8', env });
    expect(clean.status, clean.stderr).toBe(0);

    const child = spawn(process.execPath, [BIN, 'sweep', 'grid.yaml', '--runs-dir', 'int', '--plain'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Wait for the first member's first checkpoint, then interrupt.
    const parent = join(work, 'int', 'slow-grid'); // named after the experiment's name
    const t0 = Date.now();
    const firstCheckpoint = () => {
      if (!existsSync(parent)) return false;
      for (const sweep of readdirSync(parent)) {
        const dir = join(parent, sweep);
        for (const m of readdirSync(dir)) if (existsSync(join(dir, m, 'checkpoints', 'last'))) return true;
      }
      return false;
    };
    while (!firstCheckpoint()) {
      if (Date.now() - t0 > 60_000) throw new Error(`no checkpoint appeared:\n${out}`);
      await sleep(20);
    }
    child.kill('SIGINT');
    expect(await exited, out).toBe(130);

    const sweepDir = join(parent, readdirSync(parent)[0]!);
    const statuses = json(join(sweepDir, 'sweep.json')).members.map((m: { status: string }) => m.status);
    expect(statuses[0]).toBe('interrupted');
    expect(statuses[1]).toMatch(/pending|interrupted/);

    const resumed = spawnSync(process.execPath, [BIN, 'sweep', '--resume', sweepDir, '--plain'], { cwd: work, encoding: 'utf8', env });
    expect(resumed.status, resumed.stdout + resumed.stderr).toBe(0);
    const members = json(join(sweepDir, 'sweep.json')).members as Array<{ status: string; run_dir: string; label: string }>;
    expect(members.map((m) => m.status)).toEqual(['completed', 'completed']);

    const cleanDir = join(work, 'clean', 'slow-grid', readdirSync(join(work, 'clean', 'slow-grid'))[0]!);
    const cleanMembers = json(join(cleanDir, 'sweep.json')).members as Array<{ run_dir: string; label: string }>;
    for (const [i, m] of members.entries()) {
      const a = resolve(sweepDir, m.run_dir);
      const b = resolve(cleanDir, cleanMembers[i]!.run_dir);
      expect(metrics(a), m.label).toEqual(metrics(b));
    }
  });
});
