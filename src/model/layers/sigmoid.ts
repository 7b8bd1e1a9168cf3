import type { LayerKind } from '../layer-kind.js';
import { activationKind } from './util.js';

export const sigmoid: LayerKind = activationKind('sigmoid', 'Element-wise Sigmoid activation; shape unchanged.', 'sigmoid');
