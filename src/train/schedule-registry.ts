/**
 * The schedule registry: one file per learning-rate schedule under src/train/schedules/, one `register` call each.
 * No tfjs. The schema's `schedule` section, validation and `learningRate` (schedule.ts) read it.
 */
import { Registry } from '../registry.js';
import { constant } from './schedules/constant.js';
import { cosine } from './schedules/cosine.js';
import type { ScheduleKind } from './schedules/kind.js';
import { SCHEDULE_OPTIONS } from './schedules/options.js';
import { plateau } from './schedules/plateau.js';
import { step } from './schedules/step.js';

export type { ScheduleContext, ScheduleKind } from './schedules/kind.js';

export const schedules = new Registry<ScheduleKind>('schedule', SCHEDULE_OPTIONS, ['warmup_epochs']);

schedules.register(constant);
schedules.register(step);
schedules.register(cosine);
schedules.register(plateau);
