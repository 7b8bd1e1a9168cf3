import { poolKind } from './pool.js';

export const maxpool2d = poolKind('maxpool2d');
