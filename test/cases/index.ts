/** The one module table (test/modules.test.ts): every row of every module family. */
import type { ModuleCase } from '../helpers/module-case.js';
import { cases as coreCases } from './core.js';
import { cases as couplingCases } from './couplings.js';
import { cases as splineCases } from './splines.js';
import { cases as fixedCases } from './fixed.js';
import { cases as iresnetInvAutoCases } from './iresnet-invauto.js';
import { cases as autoregressiveCases } from './autoregressive.js';
import { cases as preprocessingCases } from './preprocessing.js';

export const moduleTable: readonly ModuleCase[] = [...coreCases, ...couplingCases, ...splineCases, ...fixedCases, ...iresnetInvAutoCases, ...autoregressiveCases, ...preprocessingCases];
