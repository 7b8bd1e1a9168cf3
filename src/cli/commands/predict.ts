/** `tudui predict CHECKPOINT FILE|DIR... [--top-k 3] [--json]`: classify pictures with a trained checkpoint. */
import type { Command } from '../command.js';
import type { ClassScore } from '../../infer/load.js';
import { UserError } from '../../errors.js';
import { checkpointAndBackend, DEVICE_OPTIONS, topKOption } from './eval.js';

export const command: Command = {
  name: 'predict',
  summary: 'Classify pictures (PNG, JPEG, WebP, any size) with a checkpoint: one line per file with its most probable classes.',
  usage: 'tudui predict <run dir|checkpoint dir> <file|dir>... [--top-k K] [--json]',
  options: [
    { name: 'top-k', type: 'number', value: 'k', description: 'how many classes to show per file (default: 3)' },
    { name: 'json', type: 'boolean', description: 'print the predictions as JSON on stdout' },
    ...DEVICE_OPTIONS,
  ],
  async run(args) {
    if (args.positionals.length < 2) throw new UserError('tudui predict expects a run directory or checkpoint, then pictures or directories of them', 'tudui predict runs/digits-cnn/<timestamp> picture.png');
    const topK = topKOption(args.options['top-k'], 3);
    const [checkpoint, ...inputs] = args.positionals as [string, ...string[]];
    const { predictTargets, formatPrediction } = await import('../../infer/predict.js');
    const json = Boolean(args.options.json);
    const targets = predictTargets(inputs);
    if (!targets.length) throw new UserError(`no pictures found in ${inputs.join(', ')} (looked for .png, .jpg, .jpeg, .webp, .gif, .tif, .avif)`);
    const found = await checkpointAndBackend(checkpoint, args.options, json);
    const { loadModel } = await import('../../infer/load.js');
    const m = await loadModel(found.dir);
    try {
      const readable = targets.filter((t) => !t.error);
      const scores = await m.classify(readable.map((t) => t.path), { topK, names: readable.map((t) => t.file) });
      const byPath = new Map(readable.map((t, i) => [t, scores[i]!]));
      const results = targets.map((t): { file: string; top?: ClassScore[]; error?: string } => {
        const r = byPath.get(t);
        return { file: t.file, ...(t.error ? { error: `${t.file}: ${t.error}` } : Array.isArray(r) ? { top: r } : { error: r!.error }) };
      });
      if (json) process.stdout.write(JSON.stringify({ checkpoint: found.dir, label: found.label, predictions: results }, null, 2) + '\n');
      else {
        for (const r of results) {
          if (r.top) process.stdout.write(formatPrediction(r.file, r.top) + '\n');
          else process.stderr.write(`tudui: error: ${r.error}\n`);
        }
      }
      const bad = results.filter((r) => r.error).length;
      if (bad && !json) process.stderr.write(`${bad} of ${results.length} file${results.length === 1 ? '' : 's'} could not be classified\n`);
      return bad ? 1 : 0;
    } finally {
      m.dispose();
    }
  },
};
