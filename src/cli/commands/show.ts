import type { Command } from '../command.js';
import { UserError } from '../../errors.js';

export const command: Command = {
  name: 'show',
  summary:
    "One run: its status, times, epochs, best, backend and dataset, the resolved config, and each metric's last, min, " +
    'max and best@step with a sparkline. --plot draws one metric as a chart the size of the terminal; --follow keeps ' +
    'printing new points while the run trains.',
  usage: 'tudui show RUN [--plot TAG] [--follow] [--json]',
  options: [
    { name: 'plot', type: 'string', value: 'tag', description: 'draw this metric (e.g. test_accuracy, train_loss) as a terminal chart' },
    { name: 'follow', short: 'f', type: 'boolean', description: 'after the report, print new points and status changes until the run stops' },
    { name: 'json', type: 'boolean', description: 'print the report as JSON' },
  ],
  async run(args) {
    if (args.positionals.length !== 1) throw new UserError(`tudui show expects one run directory, received ${args.positionals.length}`, 'list runs with: tudui ls');
    const o = args.options;
    const { runReport, formatRunReport, plotTag, followRun } = await import('../../inspect/show.js');
    const { readMetrics, runPaths } = await import('../../run/layout.js');
    const report = runReport(args.positionals[0]!);
    if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (o.plot !== undefined) {
      const size = { width: process.stdout.columns || 80, height: Math.max(8, Math.min(25, (process.stdout.rows || 24) - 4)) };
      process.stdout.write(plotTag(readMetrics(runPaths(report.dir).metrics), String(o.plot), size) + '\n');
    } else process.stdout.write(formatRunReport(report) + '\n');
    if (!o.follow) return 0;
    if (report.status !== 'running') {
      process.stdout.write(`not following: the run is ${report.status}\n`);
      return 0;
    }
    process.stdout.write(`following ${report.dir} (Ctrl-C to stop)\n`);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    try {
      const status = await followRun(report.dir, (line) => process.stdout.write(line + '\n'), { signal: stop.signal });
      return stop.signal.aborted ? 130 : status === 'completed' ? 0 : 1;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
