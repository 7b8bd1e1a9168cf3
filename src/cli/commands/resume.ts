import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from '../command.js';
import { UserError } from '../../errors.js';
import { exitCode, interruptController } from './run.js';
import { BACKEND_OPTIONS, backendOptions, deviceOption, deviceSpec, quietOption, setOption, VERBOSE_OPTION } from '../options.js';
import { runOutput } from '../output.js';

/** A checkpoint name inside the run's checkpoints/ directory (a path to one is accepted too). */
function checkpointOption(value: string): string {
  const name = basename(value.replace(/\/+$/, ''));
  if (!/^epoch-\d{4}(-step-\d{6})?$/.test(name) && name !== 'last' && name !== 'best') {
    throw new UserError(`--from expects a checkpoint name such as epoch-0003 (see the run's checkpoints/ directory), received '${value}'`);
  }
  return name;
}

export const command: Command = {
  name: 'resume',
  summary: 'Continue an interrupted run in its own directory from its last checkpoint.',
  usage: 'tudui resume <run dir> [--from epoch-NNNN] [--allow-changed --set key=value]...',
  options: [
    { name: 'from', type: 'string', value: 'checkpoint', description: 'resume from this kept checkpoint (e.g. epoch-0003) instead of the last one' },
    setOption('change a config value (needs --allow-changed), repeatable'),
    { name: 'allow-changed', type: 'boolean', description: 'resume even though the config differs from the checkpoint (e.g. more epochs)' },
    deviceSpec("the run's"),
    ...BACKEND_OPTIONS,
    VERBOSE_OPTION,
    quietOption('print nothing but errors'),
  ],
  async run(args) {
    if (args.positionals.length !== 1) throw new UserError('tudui resume expects exactly one run directory');
    const runDir = args.positionals[0]!;
    const config = join(runDir, 'config.yaml');
    if (!existsSync(config)) throw new UserError(`${runDir} is not a run directory: config.yaml is missing`);
    const { runExperiment } = await import('../../run/run-experiment.js');
    const interrupt = interruptController((s) => process.stderr.write(s + '\n'));
    try {
      const outcome = await runExperiment(config, {
        overrides: (args.options.set as string[] | undefined) ?? [],
        runDir,
        resume: true,
        allowChanged: Boolean(args.options['allow-changed']),
        ...(args.options.from !== undefined ? { from: checkpointOption(String(args.options.from)) } : {}),
        device: deviceOption(args.options.device),
        ...backendOptions(args.options),
        quiet: Boolean(args.options.quiet),
        signal: interrupt.signal,
        out: runOutput(Boolean(args.options.verbose)),
      });
      return exitCode(outcome);
    } finally {
      interrupt.dispose();
    }
  },
};
