/** Where to train: the experiment's `device:` and the CLI's `--device` (the backends decide what each means). */
export const DEVICES = ['auto', 'cpu', 'gpu'] as const;

export type Device = (typeof DEVICES)[number];
