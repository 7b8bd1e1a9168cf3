import type { Command } from '../command.js';
import { UserError } from '../../errors.js';
import { checkOutputDir } from '../checks.js';
import { deviceOption, interruptController } from './run.js';

export const command: Command = {
  name: 'sweep',
  summary:
    'Run every experiment the patterns find (files, directories, globs), each file expanded over its `sweep:` grid, ' +
    'into one sweep directory runs/<name>/<timestamp>/ with a run directory per member, a ranked summary and ' +
    'TensorBoard HPARAMS records. Every member is validated before anything runs.',
  usage: 'tudui sweep <file|dir|glob>... [--set key=value]... [--concurrency N] [--fail-fast] [--rank-by METRIC] | tudui sweep --resume <sweep dir>',
  options: [
    { name: 'set', type: 'string', multiple: true, value: 'key.path=value', description: 'override a config value in every member (YAML syntax), repeatable' },
    { name: 'name', type: 'string', value: 'name', description: "sweep name (default: the single file's experiment name, else 'sweep')" },
    { name: 'runs-dir', type: 'string', value: 'dir', description: 'parent directory for sweep directories (default: runs)' },
    { name: 'concurrency', short: 'j', type: 'number', value: 'N', description: 'members run at once (default: 1; one accelerator)' },
    { name: 'in-process', type: 'boolean', description: 'run members in this process, one at a time (faster start; default: a process per member)' },
    { name: 'fail-fast', type: 'boolean', description: 'stop at the first failed member (default: keep going)' },
    {
      name: 'rank-by',
      type: 'string',
      value: 'metric',
      description: 'rank the summary by best_test_accuracy (default), test_accuracy, test_loss, best_test_loss, train_loss or seconds',
    },
    { name: 'resume', type: 'string', value: 'sweep dir', description: 'continue a sweep: skip completed members, rerun failed and unfinished ones' },
    { name: 'device', type: 'string', value: 'auto|cpu|gpu', description: "override every member's device" },
    { name: 'plain', type: 'boolean', description: 'plain progress lines instead of the live task list (the default when stdout is not a terminal)' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'no progress, only the summary table and errors' },
  ],
  async run(args) {
    const device = deviceOption(args.options.device);
    const concurrency = args.options.concurrency as number | undefined;
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1))
      throw new UserError(`--concurrency expects a whole number ≥ 1, received ${concurrency}`);
    checkOutputDir(args.options['runs-dir'] as string | undefined, '--runs-dir');
    const { sweep } = await import('../../sweep/index.js');
    const interrupt = interruptController((s) => process.stderr.write(s + '\n'));
    const quiet = Boolean(args.options.quiet);
    try {
      const result = await sweep(args.positionals, {
        set: (args.options.set as string[] | undefined) ?? [],
        name: args.options.name as string | undefined,
        runsDir: args.options['runs-dir'] as string | undefined,
        concurrency,
        isolate: !args.options['in-process'],
        failFast: Boolean(args.options['fail-fast']),
        rankBy: args.options['rank-by'] as string | undefined,
        resume: args.options.resume as string | undefined,
        device,
        signal: interrupt.signal,
        renderer: quiet ? 'silent' : args.options.plain ? 'plain' : 'auto',
        log: (line) => {
          if (!quiet) process.stdout.write(line + '\n');
        },
      });
      if (result.status === 'invalid') {
        const lines = result.errors.flatMap((e) => e.split('\n'));
        for (const l of lines) process.stderr.write(l + '\n');
        process.stderr.write(`tudui: error: the sweep is invalid (${lines.length} error${lines.length === 1 ? '' : 's'}); nothing was run\n`);
        return 1;
      }
      process.stdout.write(`\n${result.table}\n\nsweep directory: ${result.sweepDir}\n`);
      if (result.status === 'interrupted') process.stdout.write(`continue with: tudui sweep --resume ${result.sweepDir}\n`);
      else if (result.status === 'failed') process.stdout.write(`rerun the failed members with: tudui sweep --resume ${result.sweepDir}\n`);
      return result.exitCode;
    } finally {
      interrupt.dispose();
    }
  },
};
