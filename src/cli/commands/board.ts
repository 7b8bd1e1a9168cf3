/** `tudui board [DIR] [--port N] [--host H]`: a local, read-only web page over the runs and sweeps under DIR. */
import type { Command } from '../command.js';
import { UserError } from '../../errors.js';

export const command: Command = {
  name: 'board',
  summary: 'look at runs and sweeps in the browser, live',
  usage: 'tudui board [DIR] [--port <n>] [--host <address>]',
  options: [
    { name: 'port', type: 'number', value: 'n', description: 'port to listen on (default: a free one, printed)' },
    { name: 'host', type: 'string', value: 'address', description: 'address to listen on (default 127.0.0.1; another one exposes the board on purpose)' },
  ],
  async run(args) {
    if (args.positionals.length > 1) throw new UserError(`board takes one DIR, received ${args.positionals.length}: ${args.positionals.join(' ')}`);
    const dir = args.positionals[0] ?? 'runs';
    const port = args.options.port;
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)) {
      throw new UserError(`option --port expects an integer from 0 to 65535, received ${String(port)}`);
    }
    const host = typeof args.options.host === 'string' ? args.options.host : '127.0.0.1';
    const { startBoard } = await import('../../board/server.js');
    const board = await startBoard({ dir, host, port: port ?? 0 });
    const n = board.store.rows().length;
    process.stdout.write(`tudui board: ${n} run${n === 1 ? '' : 's'} under ${dir} at ${board.url}\n`);
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) process.stderr.write(`tudui board: warning: listening on ${host}: anyone who can reach it can read the runs\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await board.close();
    return 0;
  },
};
