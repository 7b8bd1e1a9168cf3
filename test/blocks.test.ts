/**
 * Issue 17, the language: `model.blocks`, `repeat: N` and `residual` — resolution, every error at the line inside
 * the block and the line of the use, `--set` and sweep key paths through block uses, the resolved config round trip,
 * the summary, and flat lists unchanged.
 */
import { describe, expect, it } from 'vitest';
import { experimentHash, formatError, loadExperiment, loadExperimentText, resolvedToYaml } from '../src/config/index.js';
import { planLeaves, planModel } from '../src/config/blocks.js';
import { formatSummary, summarize } from '../src/model/compile.js';

/** Numbered lines so that the expected positions below can be read off the text. */
const BASE = [
  /* 1 */ 'name: blocks',
  /* 2 */ 'dataset: { name: synthetic, shape: [8, 8, 3], classes: 4 }',
  /* 3 */ 'model:',
  /* 4 */ '  blocks:',
  /* 5 */ '    cbr:',
  /* 6 */ '      params: { f: required, stride: 1 }',
  /* 7 */ '      layers:',
  /* 8 */ '        - conv2d: { filters: $f, kernel_size: 3, stride: $stride, padding: same, bias: false }',
  /* 9 */ '        - batchnorm',
  /* 10 */ '        - relu',
  /* 11 */ '  layers:',
  /* 12 */ '    - cbr: { f: 8 }',
  /* 13 */ '    - residual: [ { cbr: { f: 8 } }, { cbr: { f: 8 } } ]',
  /* 14 */ '    - cbr: { f: 16, repeat: 2 }',
  /* 15 */ '    - residual: { shortcut: conv, layers: [ { cbr: { f: 32, stride: 2 } }, { cbr: { f: 32 } } ] }',
  /* 16 */ '    - global_avgpool2d',
  /* 17 */ '    - linear: 4',
  /* 18 */ 'optimizer: { name: sgd, lr: 0.1 }',
  /* 19 */ 'epochs: 1',
  '',
];
const text = (lines: string[]) => lines.join('\n');
const withLines = (edits: Record<number, string>) => text(BASE.map((l, i) => edits[i + 1] ?? l));

function errorsOf(src: string, overrides: string[] = []): string[] {
  return loadExperimentText('b.yaml', src, { overrides }).errors.map(formatError);
}

describe('resolution', () => {
  it('keeps the structure as written, with params and defaults filled in', () => {
    const r = loadExperimentText('b.yaml', text(BASE));
    expect(r.errors).toEqual([]);
    const m = r.experiment.model;
    expect(m.blocks).toEqual({ cbr: { params: { f: 'required', stride: 1 }, layers: expect.any(Array) } });
    expect(m.layers.map((l) => [l.kind, l.repeat])).toEqual([['cbr', undefined], ['residual', undefined], ['cbr', 2], ['residual', undefined], ['global_avgpool2d', undefined], ['linear', undefined]]);
    expect(m.layers[0]!.options).toEqual({ f: 8, stride: 1 });
    expect(m.layers[3]!.options).toMatchObject({ shortcut: 'conv', layers: [{ kind: 'cbr', options: { f: 32, stride: 2 } }, { kind: 'cbr', options: { f: 32, stride: 1 } }] });
    expect((m.layers[1]!.options as { shortcut: string }).shortcut).toBe('identity');
  });

  it('plans into layers with shapes: copies, substituted values, the projection with the inferred stride', () => {
    const exp = loadExperimentText('b.yaml', text(BASE)).experiment;
    const plan = planModel(exp.model, [8, 8, 3]);
    expect(plan.error).toBeUndefined();
    const leaves = planLeaves(plan.nodes!);
    expect(leaves.map((l) => l.name)).toEqual([
      'l0_cbr_0_conv2d', 'l0_cbr_1_batchnorm', 'l0_cbr_2_relu',
      'l1_res_0_cbr_0_conv2d', 'l1_res_0_cbr_1_batchnorm', 'l1_res_0_cbr_2_relu', 'l1_res_1_cbr_0_conv2d', 'l1_res_1_cbr_1_batchnorm', 'l1_res_1_cbr_2_relu',
      'l2r1_cbr_0_conv2d', 'l2r1_cbr_1_batchnorm', 'l2r1_cbr_2_relu', 'l2r2_cbr_0_conv2d', 'l2r2_cbr_1_batchnorm', 'l2r2_cbr_2_relu',
      'l3_res_0_cbr_0_conv2d', 'l3_res_0_cbr_1_batchnorm', 'l3_res_0_cbr_2_relu', 'l3_res_1_cbr_0_conv2d', 'l3_res_1_cbr_1_batchnorm', 'l3_res_1_cbr_2_relu',
      'l3_res_sc_conv2d', 'l3_res_sc_batchnorm', 'l4_global_avgpool2d', 'l5_linear',
    ]);
    const sc = leaves.find((l) => l.name === 'l3_res_sc_conv2d')!;
    expect(sc.options).toEqual({ filters: 32, kernel_size: 1, stride: 2, padding: 0, bias: false });
    expect(sc.input).toEqual([8, 8, 16]);
    expect(sc.output).toEqual([4, 4, 32]);
    expect(plan.output).toEqual([4]);
  });

  it('the summary shows the layers inside blocks and residuals, with every parameter counted', () => {
    const exp = loadExperimentText('b.yaml', text(BASE)).experiment;
    const rows = summarize(exp, [8, 8, 3]);
    const table = formatSummary(rows, [8, 8, 3]);
    expect(table).toContain('cbr(f=16, stride=1) (copy 2 of 2)');
    expect(table).toContain('residual(shortcut=conv): x + f(x)');
    expect(table).toMatch(/shortcut:.*\n.*conv2d\(filters=32, kernel_size=1, stride=2, padding=0, bias=false\)\s+4×4×32\s+512/);
    // 3·3·3·8 + 2·(3·3·8·8) + 3·3·8·16 + 3·3·16·16 + 3·3·16·32 + 3·3·32·32 + 1·1·16·32, batchnorms, linear 32·4+4
    const convs = 216 + 2 * 576 + 1152 + 2304 + 4608 + 9216 + 512;
    const bns = 2 * (8 + 8 + 8 + 16 + 16 + 32 + 32 + 32);
    expect(rows.reduce((s, r) => s + r.parameters, 0)).toBe(convs + bns + 132);
  });

  it('the resolved config is itself an experiment file that resolves to the same experiment', () => {
    const a = loadExperimentText('b.yaml', text(BASE)).experiment;
    const again = loadExperimentText('config.yaml', resolvedToYaml(a));
    expect(again.errors).toEqual([]);
    expect(experimentHash(again.experiment)).toBe(experimentHash(a));
    const changed = loadExperimentText('b.yaml', text(BASE), { overrides: ['model.layers[2].cbr.repeat=3'] }).experiment;
    expect(experimentHash(changed)).not.toBe(experimentHash(a));
  });

  it('flat lists resolve exactly as before (no blocks key, no repeat, the same hash input)', () => {
    const r = loadExperiment('experiments/cifar10-sgd.yaml', { overrides: ['dataset.root=.'] });
    expect(r.experiment.model.blocks).toBeUndefined();
    expect(r.experiment.model.layers.every((l) => Object.keys(l).sort().join() === 'kind,loc,options')).toBe(true);
    expect(resolvedToYaml(r.experiment)).not.toContain('blocks');
    expect(resolvedToYaml(r.experiment)).not.toContain('repeat');
  });

  it('repeat on a built-in layer makes copies', () => {
    const src = withLines({ 16: '    - conv2d: { filters: 4, kernel_size: 3, padding: 1, repeat: 3 }', 17: '    - flatten\n    - linear: 4' });
    const exp = loadExperimentText('b.yaml', src).experiment;
    const names = planLeaves(planModel(exp.model, [8, 8, 3]).nodes!).map((l) => l.name).filter((n) => n.startsWith('l4'));
    expect(names).toEqual(['l4r1_conv2d', 'l4r2_conv2d', 'l4r3_conv2d']);
  });
});

describe('errors point at the line inside the block and the line of the use', () => {
  it('a shape error in the second copy of a block', () => {
    const src = withLines({
      2: 'dataset: { name: synthetic, shape: [6, 6, 3], classes: 4 }',
      8: '        - conv2d: { filters: $f, kernel_size: 3, stride: $stride, padding: valid, bias: false }',
      13: '    - cbr: { f: 8, repeat: 2 }',
      14: '    - relu',
      15: '    - relu',
    });
    expect(errorsOf(src)).toEqual(["b.yaml:8:11: error: model.blocks.cbr.layers[0].conv2d: kernel 3×3 is larger than its input 2×2×8 (block 'cbr' (line 5) used at line 13, copy 2 of 2)"]);
  });

  it('a shape error in a copy of a repeated built-in layer; an unused block is a warning', () => {
    const src = withLines({ 2: 'dataset: { name: synthetic, shape: [6, 6, 3], classes: 4 }', 12: '    - conv2d: { filters: 4, kernel_size: 3, repeat: 3 }', 13: '    - relu', 14: '    - relu', 15: '    - relu' });
    const r = loadExperimentText('b.yaml', src);
    expect(r.errors.map(formatError)).toEqual(['b.yaml:12:7: error: model.layers[0].conv2d: kernel 3×3 is larger than its input 2×2×4 (copy 3 of 3 of the entry at line 12)']);
    const ok = loadExperimentText('b.yaml', src.replace('repeat: 3', 'repeat: 2'));
    expect(ok.errors).toEqual([]);
    expect(ok.warnings?.map(formatError)).toEqual(["b.yaml:5:5: warning: model.blocks.cbr: block 'cbr' is never used in model.layers"]);
  });

  it('a bad value given through a parameter, at each use', () => {
    expect(errorsOf(withLines({ 14: '    - cbr: { f: 0, repeat: 2 }' }))).toEqual([
      "b.yaml:8:30: error: model.blocks.cbr.layers[0].conv2d.filters: expected a positive integer, received 0 from $f (block 'cbr' (line 5) used at line 14)",
    ]);
  });

  it('block definitions: shadowing, unknown parameters and kinds, partial $ values, recursion, reserved names', () => {
    const src = withLines({
      8: '        - conv2d: { filters: $f, kernel_size: $k, stride: $stride, padding: same, bias: false }',
      9: '        - batchnom',
      10: "        - dropout: '$stride/2'\n    relu: { layers: [ sigmoid ] }\n    loop: { params: { repeat: 2 }, layers: [ { residual: [ loop ] } ] }",
    });
    expect(errorsOf(src)).toEqual([
      "b.yaml:8:47: error: model.blocks.cbr.layers[0].conv2d.kernel_size: unknown parameter '$k'; block 'cbr' declares $f, $stride (in its params)",
      "b.yaml:9:11: error: model.blocks.cbr.layers[1]: unknown layer 'batchnom' (did you mean 'batchnorm'?); valid kinds: conv2d, maxpool2d, avgpool2d, global_avgpool2d, flatten, linear, dense, relu, leaky_relu, gelu, sigmoid, tanh, softmax, dropout, batchnorm, scale, residual, cbr, relu, loop",
      "b.yaml:10:20: error: model.blocks.cbr.layers[2].dropout: '$stride/2': '$name' replaces a whole value, e.g. 'filters: $f'",
      "b.yaml:11:5: error: model.blocks.relu: block name 'relu' shadows the built-in layer kind relu; rename the block (e.g. 'my_relu')",
      "b.yaml:12:23: error: model.blocks.loop.params.repeat: 'repeat' is reserved: every use accepts 'repeat: N' already",
      "b.yaml:12:46: error: model.blocks.loop.layers[0]: block 'loop' uses itself (loop → loop); blocks cannot be recursive",
    ]);
  });

  it('uses: unknown and missing parameters, an unknown block, a bare use that needs parameters', () => {
    const src = withLines({ 12: '    - cbr: { f: 8, strid: 2 }', 13: '    - cbr', 14: '    - cbx: { f: 16 }' });
    expect(errorsOf(src)).toEqual([
      "b.yaml:12:20: error: model.layers[0].cbr.strid: unknown parameter of block 'cbr' (did you mean 'stride'?); its parameters: f, stride (and repeat)",
      "b.yaml:13:7: error: model.layers[1]: block 'cbr' needs parameter f (write 'cbr: { f: ... }')",
      "b.yaml:14:7: error: model.layers[2]: unknown layer 'cbx' (did you mean 'cbr'?); valid kinds: conv2d, maxpool2d, avgpool2d, global_avgpool2d, flatten, linear, dense, relu, leaky_relu, gelu, sigmoid, tanh, softmax, dropout, batchnorm, scale, residual, cbr",
    ]);
  });

  it('an identity shortcut on a shape change states both shapes and the fix, never projects silently', () => {
    const src = withLines({ 15: '    - residual: [ { cbr: { f: 32, stride: 2 } }, { cbr: { f: 32 } } ]' });
    expect(errorsOf(src)).toEqual([
      "b.yaml:15:7: error: model.layers[3].residual: its layers turn 8×8×16 into 4×4×32, but an identity shortcut needs the same shape; write 'residual: { shortcut: conv, layers: [...] }' (a 1×1 conv to 32 channels with batchnorm, stride 2), or keep the shape inside the branch",
    ]);
  });

  it('a residual inside a block reports the use; the output size check reaches into blocks', () => {
    const src = withLines({
      10: '        - relu\n    res:\n      params: { f: required }\n      layers: [ { residual: [ { cbr: { f: $f, stride: 2 } } ] } ]',
      15: '    - res: { f: 16 }',
    });
    expect(errorsOf(src)).toEqual([
      "b.yaml:13:19: error: model.blocks.res.layers[0].residual: its layers turn 8×8×16 into 4×4×16, but an identity shortcut needs the same shape; write 'residual: { shortcut: conv, layers: [...] }' (a 1×1 conv to 16 channels with batchnorm, stride 2), or keep the shape inside the branch (block 'res' (line 11) used at line 18)",
    ]);
    expect(errorsOf(text(BASE), ['model.layers[5].linear.units=5'])).toEqual([
      '--set model.layers[5].linear.units=5: error: model.layers[5].linear.units: the model outputs 5 values but synthetic has 4 classes; the last layer must output 4',
    ]);
  });

  it('residual forms: bare, empty, unknown keys and shortcuts', () => {
    const src = withLines({ 13: '    - residual', 15: '    - residual: { shortcut: projection, layer: [] }' });
    expect(errorsOf(src)).toEqual([
      "b.yaml:13:7: error: model.layers[1]: residual needs its layers: '- residual: [ ... ]' or '- residual: { shortcut: conv, layers: [ ... ] }'",
      "b.yaml:15:7: error: model.layers[3].residual: missing required key 'layers'",
      "b.yaml:15:29: error: model.layers[3].residual.shortcut: expected one of 'identity', 'conv', received 'projection'",
      "b.yaml:15:41: error: model.layers[3].residual.layer: unknown key (did you mean 'layers'?)",
    ]);
  });
});

describe('--set and sweeps through block uses', () => {
  it('--set reaches block parameters, repeats, residual layers and block definitions', () => {
    const r = loadExperimentText('b.yaml', text(BASE), {
      overrides: ['model.layers[0].cbr.f=8', 'model.layers[2].cbr.repeat=3', 'model.layers[3].residual.layers[1].cbr.f=32', 'model.blocks.cbr.params.stride=1'],
    });
    expect(r.errors).toEqual([]);
    expect(r.experiment.model.layers[0]!.options).toEqual({ f: 8, stride: 1 });
    expect(r.experiment.model.layers[2]!.repeat).toBe(3);
    expect(errorsOf(text(BASE), ['model.layers[0].cbr.g=4'])).toEqual([
      "--set model.layers[0].cbr.g=4: error: model.layers[0].cbr.g: unknown parameter of block 'cbr'; its parameters: f, stride (and repeat)",
    ]);
  });

  it('sweep grids over block options are validated member by member', () => {
    const good = text([...BASE.slice(0, -1), 'sweep:', '  model.layers[2].cbr.f: [8, 16]', '  model.blocks.cbr.params.stride: [1]', '  model.layers[2].cbr.repeat: [1, 2]', '']);
    expect(errorsOf(good)).toEqual([]);
    const bad = text([...BASE.slice(0, -1), 'sweep:', '  model.layers[0].cbr.g: [4, 8]', '  model.layers[2].cbr.f: [0]', '']);
    expect(errorsOf(bad)).toEqual([
      "b.yaml:21:3: error: sweep.model.layers[0].cbr.g: unknown parameter 'g' of block 'cbr'; its parameters: f, stride (and repeat)",
      "b.yaml:22:27: error: model.blocks.cbr.layers[0].conv2d.filters: expected a positive integer, received 0 from $f (with model.layers[2].cbr.f = 0) (block 'cbr' (line 5) used at line 14)",
    ]);
  });
});
