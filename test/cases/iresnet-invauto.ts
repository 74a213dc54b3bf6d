import type { ModuleCase } from '../helpers/module-case.js';

export const cases: ModuleCase[] = [];
