import { poolKind } from './pool.js';

export const avgpool2d = poolKind('avgpool2d');
