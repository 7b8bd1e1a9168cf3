import type { LayerKind } from '../layer-kind.js';
import { activationKind } from './util.js';

export const relu: LayerKind = activationKind('relu', 'Element-wise ReLU activation; shape unchanged.', 'relu');
