/** Sweep building blocks without training: grid expansion with positions, member names, ranking. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../src/config/index.js';
import { expandGrid, expandSweep, readGrid } from '../src/sweep/grid.js';
import { safeName, uniqueNames } from '../src/sweep/naming.js';
import { arraySpec, batchScript, sbatchOptions } from '../src/sweep/slurm/options.js';
import { expandTasks, isActive, parseIdStateLines } from '../src/sweep/slurm/scheduler.js';
import { buildRows, checkRankBy, formatTable, toCsv } from '../src/sweep/report.js';
import type { Manifest, ManifestMember } from '../src/sweep/manifest.js';

const root = new URL('..', import.meta.url).pathname;

describe('readGrid / expandGrid', () => {
  it('expands the cross product in the order written, first key outermost', () => {
    const src = ['name: x', 'sweep:', '  optimizer.lr: [0.1, 1e-3]', "  optimizer.name: [sgd, 'adam']", '  model.layers[1].linear.units: [4]', ''].join('\n');
    const { axes, errors } = readGrid('x.yaml', src);
    expect(errors).toEqual([]);
    const points = expandGrid(axes);
    expect(points.map((p) => p.label)).toEqual([
      'optimizer.lr=0.1,optimizer.name=sgd,model.layers[1].linear.units=4',
      'optimizer.lr=0.1,optimizer.name=adam,model.layers[1].linear.units=4',
      'optimizer.lr=1e-3,optimizer.name=sgd,model.layers[1].linear.units=4',
      'optimizer.lr=1e-3,optimizer.name=adam,model.layers[1].linear.units=4',
    ]);
    expect(points[2]!.overrides).toEqual(['optimizer.lr=0.001', 'optimizer.name="sgd"', 'model.layers[1].linear.units=4']);
    expect(points[2]!.values).toEqual({ 'optimizer.lr': 0.001, 'optimizer.name': 'sgd', 'model.layers[1].linear.units': 4 });
    expect(points[2]!.locs['optimizer.lr=0.001']).toEqual({ line: 3, col: 23 });
  });

  it('expandSweep (a loaded experiment\'s grid) gives the cross product as overrides', () => {
    const { experiment } = loadExperiment('experiments/synthetic-smoke.yaml', { cwd: root });
    const points = expandSweep(experiment);
    expect(points.map((p) => p.label)).toEqual([
      'optimizer.lr=0.1,dataset.batch_size=16',
      'optimizer.lr=0.1,dataset.batch_size=32',
      'optimizer.lr=0.05,dataset.batch_size=16',
      'optimizer.lr=0.05,dataset.batch_size=32',
    ]);
    for (const p of points) expect(loadExperiment('experiments/synthetic-smoke.yaml', { cwd: root, overrides: p.overrides }).errors).toEqual([]);
    expect(expandSweep({ sweep: { 'dataset.name': ['mnist', 'fashion-mnist'], 'model.init': ['he'] } })[1]!.overrides).toEqual(['dataset.name="fashion-mnist"', 'model.init="he"']);
    expect(expandSweep({ sweep: null })).toEqual([{ overrides: [], label: '' }]);
  });

  it('a file without a grid is one point with no overrides', () => {
    expect(expandGrid(readGrid('x.yaml', 'name: x\n').axes)).toEqual([{ overrides: [], label: '', values: {}, locs: {} }]);
    expect(expandGrid(readGrid('x.yaml', 'name: x\nsweep: null\n').axes)).toHaveLength(1);
  });

  it('reports structural problems with positions', () => {
    const src = ['name: x', 'sweep:', '  optimizer.lr: 0.1', '  "bad key!": [1]', '  epochs: []', '  seed: [1, 1]', ''].join('\n');
    const { errors } = readGrid('x.yaml', src);
    expect(errors.map((e) => `${e.line}:${e.col}: ${e.message}`)).toEqual([
      expect.stringMatching(/^3:17: sweep\.optimizer\.lr must be a list/),
      expect.stringMatching(/^4:3: sweep key "bad key!" is not a key path/),
      expect.stringMatching(/^5:11: sweep\.epochs must list at least one value/),
      expect.stringMatching(/^6:9: sweep\.seed lists 1 twice/),
    ]);
    expect(readGrid('x.yaml', 'name: x\nsweep: [1, 2]\n').errors[0]).toMatchObject({ line: 2, col: 9, message: expect.stringMatching(/a sweep member is a non-empty map/) });
    expect(readGrid('x.yaml', 'name: x\nsweep: 3\n').errors[0]).toMatchObject({ line: 2, col: 8, message: expect.stringMatching(/must be a mapping/) });
  });
});

describe('member names', () => {
  it('are file-system safe and unique', () => {
    expect(safeName('optimizer.lr=0.1,dataset.batch_size=32')).toBe('optimizer.lr=0.1,dataset.batch_size=32');
    expect(safeName('dataset.root=/tmp/x y')).toBe('dataset.root=_tmp_x_y');
    expect(safeName('../..')).toBe('member');
    expect(safeName('a'.repeat(300))).toHaveLength(120);
    expect(safeName('a'.repeat(300))).not.toBe(safeName('a'.repeat(299)));
    expect(uniqueNames(['x', 'x', 'X', 'y'])).toEqual(['x', 'x-2', 'X-3', 'y']);
  });
});

describe('ranking', () => {
  const member = (label: string, status: ManifestMember['status']): ManifestMember => ({
    index: 0,
    label,
    run_dir: label,
    file: '/x.yaml',
    experiment: 'x',
    overrides: [],
    grid: {},
    hparams: { 'optimizer.lr': 0.1 },
    status,
    attempts: 1,
    started_at: null,
    finished_at: null,
    seconds: 3,
    error: status === 'failed' ? 'boom\nstack' : null,
  });

  it('puts members without the metric last and checks the metric name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tudui-rank-'));
    try {
      const m: Manifest = {
        version: 1,
        name: 's',
        created_at: '',
        updated_at: '',
        cwd: dir,
        patterns: [],
        set: [],
        device: null,
        rank_by: 'best_test_accuracy',
        status: 'failed',
        hparams: ['optimizer.lr'],
        members: [member('a', 'failed'), member('b', 'pending')],
      };
      const rows = buildRows(dir, m, 'test_loss');
      expect(rows.map((r) => [r.rank, r.member, r.test_loss, r.seconds])).toEqual([
        [1, 'a', null, 3],
        [2, 'b', null, 3],
      ]);
      expect(formatTable(rows, 'test_loss')).toMatch(/failed: a: boom$/m);
      expect(toCsv(rows, m.hparams).split('\n')[1]).toBe('1,a,failed,,,,,,0,3,0.1,a,/x.yaml,boom');
      expect(() => checkRankBy('accuracy')).toThrow(/--rank-by expects one of/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Slurm building blocks (no cluster needed)', () => {
  it('writes array specs in Slurm syntax: ranges, lists and the %N throttle', () => {
    expect(arraySpec([0, 1, 2, 3], 2)).toBe('0-3%2');
    expect(arraySpec([0, 1, 2, 3], 4)).toBe('0-3');
    expect(arraySpec([4, 1, 3, 7, 8, 9], 1)).toBe('1,3-4,7-9%1');
    expect(arraySpec([5], undefined)).toBe('5');
  });

  it("reads sacct's and squeue's task lines, pending tasks collapsed into ranges included", () => {
    const sacct = ['123_0|COMPLETED', '123_1|CANCELLED by 0', '123_2|RUNNING', '123_[3-5,7%2]|PENDING', '1234_9|FAILED', 'garbage', ''].join('\n');
    expect([...parseIdStateLines(sacct, '123', '|')]).toEqual([
      [0, 'COMPLETED'],
      [1, 'CANCELLED'],
      [2, 'RUNNING'],
      [3, 'PENDING'],
      [4, 'PENDING'],
      [5, 'PENDING'],
      [7, 'PENDING'],
    ]);
    expect(expandTasks('[0-6:3]')).toEqual([0, 3, 6]);
    expect(isActive('REQUEUED')).toBe(true);
    expect(isActive('COMPLETING')).toBe(true);
    expect(isActive('TIMEOUT')).toBe(false);
    expect(isActive(undefined)).toBe(false);
  });

  it("writes the batch script: setup lines, the node check, exec of this member's task", () => {
    const s = batchScript({ sweepDir: "/s/it's", node: '/opt/node', bin: '/t/bin/tudui.js', setup: ['module load nodejs'], verbose: true });
    expect(s.split('\n')[0]).toBe('#!/bin/bash');
    expect(s.indexOf('module load nodejs')).toBeLessThan(s.indexOf('NODE='));
    expect(s).toContain(`NODE='/opt/node'`);
    expect(s).toContain(`scancel "$SLURM_ARRAY_JOB_ID"`);
    expect(s).toContain(`exec "$NODE" "$BIN" sweep --slurm-task '/s/it'\\''s' --verbose\n`);
    const args = sbatchOptions({ gpus: 2, sbatchArgs: ['--exclusive'], signalGrace: 30 }, '/s', 'g', [0, 1], 1, '/w');
    expect(args).toEqual(expect.arrayContaining(['--parsable', '--array=0-1%1', '--signal=B:USR1@30', '--gres=gpu:2', '--exclusive', '--chdir=/w', '--open-mode=append']));
    expect(args).toContain('--output=/s/slurm/member-%a.out');
  });
});
