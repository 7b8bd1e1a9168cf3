/** Every loss option, declared once (JSON Schema; '{only}' names the losses that use it). */
import type { OptionSchema } from '../../registry.js';

export const LOSS_OPTIONS = {
  label_smoothing: { description: '{only}: label smoothing factor.', type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
} satisfies Record<string, OptionSchema>;
