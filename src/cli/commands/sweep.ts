import { wholeNumber, type OptionSpec } from '../args.js';
import type { Command } from '../command.js';
import { UserError } from '../../errors.js';
import { checkOutputDir } from '../checks.js';
import { runOutput } from '../output.js';
import { interruptController } from './run.js';
import { deviceOption, deviceSpec, quietOption, runsDirOption, setOption } from '../options.js';
import type { SlurmOptions } from '../../sweep/index.js';

const oneOf = (...names: string[]) => (v: string | number) => (names.includes(String(v)) ? undefined : `expects ${names.join(' or ')}`);

/** Options of the Slurm launcher: the spec, and where each goes in SlurmOptions. */
const SLURM_OPTIONS: Array<OptionSpec & { key: keyof SlurmOptions }> = [
  { key: 'partition', name: 'partition', type: 'string', value: 'name', description: 'Slurm: partition to submit to' },
  { key: 'account', name: 'account', type: 'string', value: 'name', description: 'Slurm: account to charge' },
  { key: 'qos', name: 'qos', type: 'string', value: 'name', description: 'Slurm: quality of service' },
  { key: 'time', name: 'time', type: 'string', value: 'limit', description: 'Slurm: time limit per member (sbatch --time: 30, 2:00:00, 1-12)' },
  { key: 'cpusPerTask', name: 'cpus-per-task', type: 'number', value: 'N', description: 'Slurm: CPUs per member', check: wholeNumber(1) },
  { key: 'mem', name: 'mem', type: 'string', value: 'size', description: 'Slurm: memory per member (sbatch --mem: 4G)' },
  { key: 'gpus', name: 'gpus', type: 'number', value: 'N', description: 'Slurm: GPUs per member (--gres=gpu:N)', check: wholeNumber(0) },
  { key: 'gpusPerTask', name: 'gpus-per-task', type: 'number', value: 'N', description: 'Slurm: --gpus-per-task=N (clusters that schedule GPUs per task)', check: wholeNumber(1) },
  { key: 'constraint', name: 'constraint', type: 'string', value: 'features', description: 'Slurm: node features (sbatch --constraint)' },
  { key: 'jobName', name: 'job-name', type: 'string', value: 'name', description: 'Slurm: job name (default tudui-<sweep name>)' },
  { key: 'sbatchArgs', name: 'sbatch', type: 'string', multiple: true, value: 'arg', description: 'Slurm: a further sbatch argument, as given (--sbatch=--exclusive), repeatable' },
  { key: 'setup', name: 'setup', type: 'string', multiple: true, value: 'line', description: "Slurm: a shell line run before each member (--setup 'module load nodejs'), repeatable" },
  { key: 'signalGrace', name: 'signal-grace', type: 'number', value: 'seconds', description: 'Slurm: checkpoint and requeue this long before the time limit (default 120)', check: wholeNumber(1) },
  { key: 'node', name: 'slurm-node', type: 'string', value: 'path', description: 'Slurm: Node.js on the compute nodes (default: this one, at the same path)' },
];

export const command: Command = {
  name: 'sweep',
  summary:
    'Run every experiment the patterns find (files, directories, globs), each file expanded over its `sweep:` grid, ' +
    'into one sweep directory runs/<name>/<timestamp>/ with a run directory per member, a ranked summary and ' +
    'TensorBoard HPARAMS records. Every member is validated before anything runs. With --launcher slurm the ' +
    'members run as one Slurm job array.',
  usage:
    'tudui sweep <file|dir|glob>... [--set key=value]... [--concurrency N] [--fail-fast] [--rank-by METRIC] [--launcher slurm [--partition P] [--time T] ... [--detach]]\n' +
    '       tudui sweep --resume <sweep dir> | tudui sweep --status <sweep dir>',
  options: [
    setOption('override a config value in every member (YAML syntax), repeatable'),
    { name: 'name', type: 'string', value: 'name', description: "sweep name (default: the single file's experiment name, else 'sweep')" },
    runsDirOption('sweep directories'),
    { name: 'concurrency', short: 'j', type: 'number', value: 'N', description: 'members run at once (default: 1; one accelerator; with Slurm the array\'s %N)', check: wholeNumber(1) },
    { name: 'in-process', type: 'boolean', description: 'run members in this process, one at a time (faster start; default: a process per member)' },
    { name: 'fail-fast', type: 'boolean', description: 'stop at the first failed member (default: keep going)' },
    {
      name: 'rank-by',
      type: 'string',
      value: 'metric',
      description: 'rank the summary by best_test_accuracy (default), test_accuracy, test_loss, best_test_loss, train_loss or seconds',
    },
    { name: 'resume', type: 'string', value: 'sweep dir', description: 'continue a sweep: skip completed members, rerun failed and unfinished ones (Slurm: resubmit only those)' },
    { name: 'status', type: 'string', value: 'sweep dir', description: "print every member's state now (Slurm: with the scheduler's) and exit" },
    deviceSpec("every member's"),
    { name: 'launcher', type: 'string', value: 'local|slurm', description: 'where members run: this machine (default) or one Slurm job array', check: oneOf('local', 'slurm') },
    ...SLURM_OPTIONS.map(({ key: _key, ...spec }) => spec),
    { name: 'detach', type: 'boolean', description: 'Slurm: submit, print the job id and exit; --status and --resume take over later' },
    { name: 'slurm-task', type: 'string', value: 'sweep dir', description: '(internal) run this Slurm array task; the batch script calls it' },
    { name: 'plain', type: 'boolean', description: 'plain progress lines instead of the live task list (the default when stdout is not a terminal)' },
    quietOption('no progress, only the summary table and errors'),
    { name: 'verbose', type: 'boolean', description: "Slurm: the full backend choice in the members' logs" },
  ],
  async run(args) {
    const o = args.options;
    if (o['slurm-task'] !== undefined) {
      const { runSlurmTask } = await import('../../sweep/index.js');
      return runSlurmTask(String(o['slurm-task']), { out: runOutput(Boolean(o.verbose)) });
    }
    if (o.status !== undefined) {
      if (args.positionals.length) throw new UserError('--status reads an existing sweep: give the sweep directory only, without experiment files');
      const { sweepStatus } = await import('../../sweep/index.js');
      process.stdout.write(sweepStatus(String(o.status)).text + '\n');
      return 0;
    }
    const device = deviceOption(o.device);
    const slurm = o.launcher === 'slurm';
    const slurmOptions: SlurmOptions = {};
    for (const s of SLURM_OPTIONS) {
      if (o[s.name] === undefined) continue;
      if (!slurm) throw new UserError(`--${s.name} is an option of the Slurm launcher: add --launcher slurm`);
      (slurmOptions as Record<string, unknown>)[s.key] = o[s.name];
    }
    if (o.detach && !slurm && o.resume === undefined) throw new UserError('--detach submits to Slurm and returns: add --launcher slurm');
    if (o.resume !== undefined && o.launcher !== undefined) throw new UserError('--resume continues a sweep with the launcher it was started with: leave out --launcher');
    checkOutputDir(o['runs-dir'] as string | undefined, '--runs-dir');
    const { sweep } = await import('../../sweep/index.js');
    const interrupt = interruptController((s) => process.stderr.write(s + '\n'));
    const quiet = Boolean(o.quiet);
    try {
      const result = await sweep(args.positionals, {
        set: (o.set as string[] | undefined) ?? [],
        name: o.name as string | undefined,
        runsDir: o['runs-dir'] as string | undefined,
        concurrency: o.concurrency as number | undefined,
        isolate: !o['in-process'],
        failFast: Boolean(o['fail-fast']),
        rankBy: o['rank-by'] as string | undefined,
        resume: o.resume as string | undefined,
        device,
        ...(slurm ? { launcher: 'slurm' as const, slurm: slurmOptions } : {}),
        detach: Boolean(o.detach),
        verbose: Boolean(o.verbose),
        signal: interrupt.signal,
        renderer: quiet ? 'silent' : o.plain ? 'plain' : 'auto',
        log: (line) => {
          if (!quiet) process.stdout.write(line + '\n');
        },
        warn: (line) => process.stderr.write(line + '\n'),
      });
      if (result.status === 'invalid') {
        const lines = result.errors.flatMap((e) => e.split('\n'));
        for (const l of lines) process.stderr.write(l + '\n');
        process.stderr.write(`tudui: error: the sweep is invalid (${lines.length} error${lines.length === 1 ? '' : 's'}); nothing was run\n`);
        return 1;
      }
      if (result.status === 'submitted') {
        process.stdout.write(`${result.jobId ? `job ${result.jobId}\n` : ''}sweep directory: ${result.sweepDir}\n`);
        process.stdout.write(`follow with: tudui sweep --status ${result.sweepDir}\nwait for it and write the summary with: tudui sweep --resume ${result.sweepDir}\n`);
        return 0;
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
