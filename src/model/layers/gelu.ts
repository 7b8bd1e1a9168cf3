import type { LayerKind } from '../layer-kind.js';
import { activationKind } from './util.js';

export const gelu: LayerKind = activationKind('gelu', 'Element-wise GELU (exact, erf form; PyTorch nn.GELU()) activation; shape unchanged.', 'gelu');
