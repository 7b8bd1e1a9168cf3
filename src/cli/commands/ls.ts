import type { Command } from '../command.js';
import { UserError } from '../../errors.js';

export const command: Command = {
  name: 'ls',
  summary:
    'List the runs (and sweep members) under a directory, one row each: name, status (a run whose process is gone ' +
    'reads as interrupted), start, duration, epochs, final and best of the monitored metric, images/s, backend. An ' +
    'aligned table on a terminal, tab-separated lines in a pipe.',
  usage: 'tudui ls [DIR] [--status S,...] [--name REGEX] [--sweep REGEX] [--sort COL [--reverse]] [--top N] [-c "COL, COL, ..."] [--json | --csv]',
  options: [
    {
      name: 'columns',
      short: 'c',
      type: 'string',
      multiple: true,
      value: 'specs',
      description: 'columns, comma-separated: name, status, started, duration, epochs, final, best, best_epoch, images_s, backend, path, sweep, seed, parameters, steps, reason; =key.path (a config value); [last|first|best|min|max] TAG (a metric)',
    },
    { name: 'status', type: 'string', multiple: true, value: 'list', description: 'only runs with these statuses (running, completed, failed, diverged, interrupted, pending), comma-separated' },
    { name: 'name', type: 'string', value: 'regex', description: 'only runs whose name or path matches' },
    { name: 'sweep', type: 'string', value: 'regex', description: "only members of sweeps whose name or path matches ('.': every sweep)" },
    { name: 'sort', type: 'string', value: 'col', description: 'sort by a column spec: metrics best first (accuracy high, loss low), text A→Z' },
    { name: 'reverse', type: 'boolean', description: 'reverse the order' },
    { name: 'top', type: 'number', value: 'N', description: 'only the first N rows (after sorting)' },
    { name: 'json', type: 'boolean', description: 'print JSON (an array of objects keyed by column)' },
    { name: 'csv', type: 'boolean', description: 'print CSV' },
  ],
  async run(args) {
    if (args.positionals.length > 1) throw new UserError(`tudui ls expects one directory, received ${args.positionals.length}`);
    const o = args.options;
    if (o.json && o.csv) throw new UserError('--json and --csv exclude each other');
    const { listRuns, formatRunList } = await import('../../inspect/ls.js');
    const { outputFormat } = await import('../../inspect/format.js');
    const list = listRuns(args.positionals[0] ?? 'runs', {
      columns: o.columns as string[] | undefined,
      status: o.status as string[] | undefined,
      name: o.name as string | undefined,
      sweep: o.sweep as string | undefined,
      sort: o.sort as string | undefined,
      reverse: Boolean(o.reverse),
      top: o.top as number | undefined,
    });
    process.stdout.write(formatRunList(list, outputFormat({ json: Boolean(o.json), csv: Boolean(o.csv), tty: Boolean(process.stdout.isTTY) })) + '\n');
    return 0;
  },
};
