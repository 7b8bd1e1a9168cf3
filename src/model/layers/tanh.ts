import type { LayerKind } from '../layer-kind.js';
import { activationKind } from './util.js';

export const tanh: LayerKind = activationKind('tanh', 'Element-wise Tanh activation; shape unchanged.', 'tanh');
