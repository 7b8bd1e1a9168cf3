import type { ScheduleKind } from './kind.js';

export const constant: ScheduleKind = {
  name: 'constant',
  description: '',
  options: {},
  rate: (_s, x) => x.base,
};
