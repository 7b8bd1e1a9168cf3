import type { Command } from '../command.js';

export const command: Command = {
  name: 'devices',
  summary: 'list the compute backends this machine offers',
  usage: 'tudui devices [--json] [--threads <n>]',
  options: [
    { name: 'json', type: 'boolean', description: 'print the list as JSON' },
    { name: 'threads', type: 'number', value: 'n', description: 'threads for the wasm backend (default: logical cores, max 8)' },
  ],
  async run(args) {
    const { listDevices } = await import('../../backends/index.js');
    const threads = typeof args.options.threads === 'number' ? args.options.threads : undefined;
    const devices = await listDevices(threads === undefined ? {} : { threads });
    if (args.options.json) {
      process.stdout.write(JSON.stringify(devices, null, 2) + '\n');
      return 0;
    }
    const w = Math.max(...devices.map((d) => d.name.length));
    for (const d of devices) {
      const status = d.loads ? `yes  ${d.description ?? ''}` : `no   ${d.reason ?? ''}${d.install ? ` (${d.install})` : ''}`;
      process.stdout.write(`${d.name.padEnd(w)}  ${d.kind}  ${status}\n`);
    }
    const auto = devices.find((d) => d.loads);
    if (auto) process.stdout.write(`\ndevice auto would use: ${auto.name}\n`);
    return 0;
  },
};
