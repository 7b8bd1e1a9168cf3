import type { Command } from '../command.js';

export const command: Command = {
  name: 'compare',
  summary:
    'Compare runs side by side: the config keys in which they differ (--all: every key) and their metrics with the ' +
    'best of each marked. Given a sweep directory: its members, and groups of members by every varied key except ' +
    'seed, with mean ± std over the seeds.',
  usage: 'tudui compare RUN RUN... | SWEEP_DIR [--all] [--json]',
  options: [
    { name: 'all', type: 'boolean', description: 'list every config key, not only the ones that differ' },
    { name: 'json', type: 'boolean', description: 'print the comparison as JSON' },
  ],
  async run(args) {
    const { compareRuns, formatComparison } = await import('../../inspect/compare.js');
    const c = compareRuns(args.positionals, { all: Boolean(args.options.all) });
    process.stdout.write((args.options.json ? JSON.stringify(c, null, 2) : formatComparison(c)) + '\n');
    return 0;
  },
};
