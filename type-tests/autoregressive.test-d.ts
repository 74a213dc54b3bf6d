/**
 * Builder types of maf, iaf and arSpline: vectors only, the shape is kept,
 * conditions must be declared, options are checked.
 */
import { expectError, expectType } from 'tsd';
import { inn, type Chain, type Flow, type Handle } from '../dist/index.js';

expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).maf({ hidden: 32, layers: 3, order: 'random', seed: 1 }));
expectType<Chain<[[5]], [[3]], [[5]]>>(inn.input([5]).condition([3]).iaf({ cond: 0, clamp: 2 }));
expectType<Flow<[[4]], [[4]], []>>(inn.input([4]).arSpline({ bins: 8, identityTails: true }).permuteRandom().maf().build());
expectError(inn.input([3, 8, 8]).maf());
expectError(inn.input([5]).maf({ order: 'sorted' }));
expectError(inn.input([5]).maf({ cond: 0 }));
expectError(inn.input([5]).arSpline({ defaultDomain: [-3, 3] }));
expectError(inn.input([6]).split([3, 3]).iaf());

const g = inn.graph();
const x = g.input([6]);
expectType<Handle<[6]>>(g.maf(x, { hidden: 16 }));
expectError(g.arSpline(g.input([2, 4, 4])));
