/** `tudui eval RUN|CHECKPOINT [--split test|val|train] [--data ROOT] [--top-k K] [--json]`: a checkpoint's numbers on a split. */
import type { OptionSpec, ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { UserError } from '../../errors.js';
import { shortDeviceLine } from '../output.js';
import { BACKEND_OPTIONS, backendOptions, deviceOption, deviceSpec } from '../options.js';

/** --device, --backend, --threads: where the checkpoint runs (default: the device its run used). */
export const DEVICE_OPTIONS: OptionSpec[] = [deviceSpec("the run's"), ...BACKEND_OPTIONS];

/** `--top-k K`: a whole number ≥ 1 (eval and predict). */
export function topKOption(value: unknown, dflt: number): number {
  const k = value === undefined ? dflt : Number(value);
  if (!Number.isInteger(k) || k < 1) throw new UserError(`--top-k expects a whole number ≥ 1, received ${String(value)}`);
  return k;
}

/**
 * Find and check the checkpoint a path names (before loading TensorFlow, so a wrong path fails fast), then select
 * the backend its run used (--device / --backend / --threads override it); the device line goes to stderr.
 */
export async function checkpointAndBackend(path: string, options: ParsedArgs['options'], quiet: boolean) {
  const device = deviceOption(options.device);
  const { locateCheckpoint } = await import('../../infer/locate.js');
  const found = locateCheckpoint(path);
  const { selectBackend } = await import('../../backends/index.js');
  const log = (l: string) => process.stderr.write(shortDeviceLine(l) + '\n');
  await selectBackend(device ?? found.metadata.experiment.device, { ...backendOptions(options), ...(quiet ? {} : { log }) });
  return found;
}

export const command: Command = {
  name: 'eval',
  summary: "Evaluate a run's checkpoint on a split: loss, accuracy, top-k, per-class precision/recall/F1, confusion matrix (also a PNG beside the checkpoint).",
  usage: 'tudui eval <run dir|checkpoint dir> [--split test|val|train] [--data ROOT] [--top-k K] [--json]',
  options: [
    { name: 'split', type: 'string', value: 'test|val|train', description: 'which split to evaluate (default: test)' },
    { name: 'data', type: 'string', value: 'dir', description: 'read the dataset from this directory instead of the one the run was trained on' },
    { name: 'top-k', type: 'number', value: 'k', description: 'also count an example correct when its label is among the k best (default: 5)' },
    { name: 'json', type: 'boolean', description: 'print the report as JSON on stdout' },
    ...DEVICE_OPTIONS,
  ],
  async run(args) {
    if (args.positionals.length !== 1) throw new UserError('tudui eval expects exactly one run directory or checkpoint', 'tudui eval runs/digits-cnn/<timestamp>');
    const { SPLITS } = await import('../../infer/locate.js');
    const split = (args.options.split ?? 'test') as (typeof SPLITS)[number];
    if (!SPLITS.includes(split)) throw new UserError(`--split expects one of ${SPLITS.join(', ')}, received '${String(args.options.split)}'`);
    const topK = topKOption(args.options['top-k'], 5);
    const json = Boolean(args.options.json);
    const found = await checkpointAndBackend(args.positionals[0]!, args.options, json);
    const { evaluateCheckpoint, formatEvalReport } = await import('../../infer/evaluate-checkpoint.js');
    const report = await evaluateCheckpoint(found.dir, { split, topK, ...(args.options.data !== undefined ? { data: String(args.options.data) } : {}) });
    for (const w of report.warnings) process.stderr.write(`tudui: warning: ${w}\n`);
    process.stdout.write((json ? JSON.stringify({ ...report, checkpoint: found.dir, label: found.label }, null, 2) : formatEvalReport({ ...report, label: found.label })) + '\n');
    return 0;
  },
};
