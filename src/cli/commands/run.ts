import type { Command } from '../command.js';
import { UserError } from '../../errors.js';
import { checkOutputDir, preflight } from '../checks.js';
import { runOutput } from '../output.js';
import { BACKEND_OPTIONS, backendOptions, deviceOption, deviceSpec, quietOption, runsDirOption, setOption, VERBOSE_OPTION } from '../options.js';
import { formatError } from '../../config/index.js';
import type { RunOutcome } from '../../run/run-experiment.js';
import { isTraining } from '../../run/phase.js';


/** First Ctrl-C: stop after the current step and checkpoint. Second: exit at once (files are written atomically). */
export function interruptController(log: (s: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log(`\n${sig} again: exiting now; every file already written is intact`);
      process.exit(130);
    }
    if (isTraining()) log(`\n${sig}: finishing the current step and writing a checkpoint (press Ctrl-C again to exit at once)`);
    else log(`\n${sig}: stopping now: training has not started, no checkpoint will be written`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** --trace (or TUDUI_TRACE=1): set by main for every command. */
export function traceOn(): boolean {
  return process.env.TUDUI_TRACE === '1';
}

/** A completed run whose training loss ended absurdly large diverged without a NaN: say so. */
export function lossWarning(outcome: RunOutcome): string | undefined {
  const loss = outcome.summary?.final?.train_loss;
  if (outcome.status !== 'completed' || loss === undefined || !(loss > 1e6)) return undefined;
  return `the final train_loss is ${loss.toPrecision(3)}: training diverged without a NaN (try a smaller optimizer.lr)`;
}

/** Print what went wrong (one line per problem) and map the outcome to an exit status. */
export function exitCode(outcome: RunOutcome): number {
  if (outcome.status === 'invalid') {
    for (const e of outcome.errors ?? []) process.stderr.write(formatError(e) + '\n');
    return 1;
  }
  if (outcome.status === 'failed' || outcome.status === 'diverged') {
    const what = outcome.status === 'diverged' ? 'the run diverged: ' : '';
    process.stderr.write(`tudui: error: ${what}${outcome.error}\n`);
    if (traceOn() && outcome.stack) process.stderr.write(`${outcome.stack}\n`);
    return 1;
  }
  return outcome.status === 'interrupted' ? 130 : 0;
}

export const command: Command = {
  name: 'run',
  summary: 'Train and evaluate one experiment, writing a run directory (TensorBoard events, checkpoints, metrics, summary).',
  usage: 'tudui run <experiment.yaml> [--set key=value]... [--device auto|cpu|gpu] [--backend NAME] [--threads N] [--runs-dir DIR]',
  options: [
    setOption('override a config value (YAML syntax), repeatable'),
    deviceSpec("the experiment's"),
    ...BACKEND_OPTIONS,
    runsDirOption('run directories'),
    quietOption('print nothing but errors and the run directory'),
    VERBOSE_OPTION,
  ],
  async run(args) {
    if (args.positionals.length !== 1) throw new UserError('tudui run expects exactly one experiment file', 'tudui run experiments/digits-cnn.yaml');
    const device = deviceOption(args.options.device);
    checkOutputDir(args.options['runs-dir'] as string | undefined, '--runs-dir');
    await preflight(args.positionals[0]!, (args.options.set as string[] | undefined) ?? [], (l) => process.stderr.write(l + '\n'));
    const { runExperiment } = await import('../../run/run-experiment.js');
    const interrupt = interruptController((s) => process.stderr.write(s + '\n'));
    try {
      const outcome = await runExperiment(args.positionals[0]!, {
        overrides: (args.options.set as string[] | undefined) ?? [],
        runsDir: args.options['runs-dir'] as string | undefined,
        device,
        ...backendOptions(args.options),
        quiet: Boolean(args.options.quiet),
        signal: interrupt.signal,
        out: runOutput(Boolean(args.options.verbose)),
      });
      // -q prints nothing but errors and where the run is
      if (args.options.quiet && outcome.runDir) process.stdout.write(`run: ${outcome.runDir}\n`);
      const warning = lossWarning(outcome);
      if (warning) process.stderr.write(`tudui: warning: ${warning}\n`);
      return exitCode(outcome);
    } finally {
      interrupt.dispose();
    }
  },
};
