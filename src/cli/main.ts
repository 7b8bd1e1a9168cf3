import { parseArgs, formatOptions } from './args.js';
import { GLOBAL_OPTIONS, type Command } from './command.js';
import { isUserError } from '../errors.js';
import { packageVersion as version } from '../version.js';

/** Command table: name → lazy loader. Keep loaders cheap; heavy imports happen inside `run`. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: { summary: 'check experiment files without training', load: async () => (await import('./commands/validate.js')).command },
  run: { summary: 'train and evaluate one experiment', load: async () => (await import('./commands/run.js')).command },
  sweep: { summary: 'run a glob of experiments and parameter grids', load: async () => (await import('./commands/sweep.js')).command },
  resume: { summary: 'continue an interrupted run in its directory', load: async () => (await import('./commands/resume.js')).command },
  devices: { summary: 'list the compute backends this machine offers', load: async () => (await import('./commands/devices.js')).command },
  eval: { summary: "evaluate a run's checkpoint on a split (metrics, confusion matrix)", load: async () => (await import('./commands/eval.js')).command },
  predict: { summary: 'classify pictures with a trained checkpoint', load: async () => (await import('./commands/predict.js')).command },
  ls: { summary: 'list runs and sweep members: status, metrics, speed (filter, sort, columns)', load: async () => (await import('./commands/ls.js')).command },
  show: { summary: 'one run: config, metrics with sparklines, a chart, --follow', load: async () => (await import('./commands/show.js')).command },
  compare: { summary: 'runs side by side, or a sweep grouped over seeds (mean ± std)', load: async () => (await import('./commands/compare.js')).command },
  board: { summary: 'look at runs and sweeps in the browser, live', load: async () => (await import('./commands/board.js')).command },
};


function mainHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return [
    `tudui ${version()}: declarative deep-learning experiments on TensorFlow.js`,
    '',
    'Usage: tudui <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(w)}  ${c.summary}`),
    '',
    'Options:',
    formatOptions([...GLOBAL_OPTIONS, { name: 'version', short: 'v', type: 'boolean', description: 'print the version' }]),
    '',
    'Run `tudui <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const trace = argv.includes('--trace') || process.env.TUDUI_TRACE === '1';
  // Errors that runs report as an outcome (not thrown) print their stack too; sweep workers inherit it.
  if (trace) process.env.TUDUI_TRACE = '1';
  try {
    let [first, ...rest] = argv;
    // `tudui help <command>` is `tudui <command> --help`
    if (first === 'help' && rest[0] !== undefined && !rest[0].startsWith('-')) [first, rest] = [rest[0], ['--help']];
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      process.stdout.write(mainHelp() + '\n');
      return first === undefined ? 1 : 0;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(version() + '\n');
      return 0;
    }
    const entry = COMMANDS[first];
    if (!entry) {
      const names = Object.keys(COMMANDS);
      process.stderr.write(`tudui: error: unknown command '${first}' (expected one of: ${names.join(', ')})\n`);
      return 1;
    }
    const command = await entry.load();
    const specs = [...GLOBAL_OPTIONS, ...command.options];
    const args = parseArgs(rest, specs);
    if (args.options.help) {
      process.stdout.write(`Usage: ${command.usage}\n\n${command.summary}\n\nOptions:\n${formatOptions(specs)}\n`);
      return 0;
    }
    return await command.run(args);
  } catch (e) {
    if (isUserError(e) && !trace) {
      process.stderr.write(`tudui: error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return 1;
    }
    const err = e as Error;
    if (trace) process.stderr.write(`${err.stack ?? String(err)}\n`);
    else process.stderr.write(`tudui: internal error: ${err.message ?? String(err)} (run with --trace for details)\n`);
    return isUserError(e) ? 1 : 2;
  }
}
