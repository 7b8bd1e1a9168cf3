/** `tudui validate FILE... [--set k=v]... [--json]`: check experiment files without loading TensorFlow. */
import type { Command } from '../command.js';
import { setOption } from '../options.js';
import { UserError } from '../../errors.js';
import type { ConfigError } from '../../config/index.js';

export const command: Command = {
  name: 'validate',
  summary: 'check experiment files without training',
  usage: 'tudui validate <file|dir|glob>... [--set key.path=value]... [--json]',
  options: [
    setOption('override a value (parsed as YAML), e.g. --set optimizer.lr=0.1; repeatable'),
    { name: 'json', type: 'boolean', description: 'print a machine-readable report on stdout' },
  ],
  async run(args) {
    if (!args.positionals.length) throw new UserError('validate expects at least one experiment FILE', 'tudui validate experiments/*.yaml');
    const { validateFiles, formatError } = await import('../../config/index.js');
    const { expandFilePatterns } = await import('../../config/files.js');
    const overrides = (args.options.set as string[] | undefined) ?? [];
    const found = expandFilePatterns(args.positionals, process.cwd());
    const checked = validateFiles(found.files.map((f) => f.shown), overrides);
    // reports in the order of the patterns, with the patterns that found nothing in their place
    let next = 0;
    const reports = found.order.map((o) => {
      if (!('error' in o)) return checked.reports[next++]!;
      const file = o.error.slice(0, o.error.indexOf(': error: '));
      return { file, ok: false, errors: [{ file, path: '', message: o.error.slice(file.length + ': error: '.length) }] };
    });
    const result = { ok: checked.ok && found.errors.length === 0, reports };
    if (args.options.json) {
      const text = (e: ConfigError) => ({ ...e, text: formatError(e) });
      const reports = result.reports.map((r) => ({ ...r, errors: r.errors.map(text), ...('warnings' in r && r.warnings ? { warnings: r.warnings.map(text) } : {}) }));
      process.stdout.write(JSON.stringify({ ok: result.ok, reports }, null, 2) + '\n');
    } else {
      for (const r of result.reports) {
        for (const w of r.warnings ?? []) process.stderr.write(formatError(w) + '\n');
        if (r.ok) process.stdout.write(`${r.file}: ok\n`);
        else for (const e of r.errors) process.stderr.write(formatError(e) + '\n');
      }
      const bad = result.reports.filter((r) => !r.ok);
      if (bad.length) {
        const n = bad.reduce((a, r) => a + r.errors.length, 0);
        process.stderr.write(`${n} error${n === 1 ? '' : 's'} in ${bad.length} of ${result.reports.length} file${result.reports.length === 1 ? '' : 's'}\n`);
      }
    }
    return result.ok ? 0 : 1;
  },
};
