import type { OptionSpec, ParsedArgs } from './args.js';

/** One CLI sub-command; modules are imported lazily so `tudui validate` never loads TensorFlow. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec[];
  run(args: ParsedArgs): Promise<number>;
}

/** Options shared by every command. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
  { name: 'trace', type: 'boolean', description: 'print full stack traces for errors' },
];
