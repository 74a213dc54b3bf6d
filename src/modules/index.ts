/** Loads every built-in module family, so that each registers its kinds. */
export * from './base.js';
export * from './subnets.js';
export * from './coupling.js';
export * from './all-in-one.js';
export * from './actnorm.js';
export * from './permute.js';
export * from './reshapes.js';
export * from './topology.js';
export * from './splines.js';
export * from './fixed.js';
export * from './orthogonal.js';
export * from './lu-conv.js';
export * from './iresnet.js';
export * from './inv-auto.js';
export * from './gaussian-mixture.js';
