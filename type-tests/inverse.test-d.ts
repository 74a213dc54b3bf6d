/**
 * Builder types of inverseOf (FrEIA's Inverse): `inverseOf(method)` is the
 * method itself, so the shape rule, the options and the conditions are
 * checked exactly as for the method, and only shape-keeping methods can be
 * wrapped.
 */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Chain, type Flow, type Handle } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 64 });
const conv = subnets.conv({ hidden: 32, kernel: 3 });

// ---- chain ----
expectType<Chain<[[5]], [], [[5]]>>(inn.input([5]).inverseOf('glow')({ subnet: mlp, clamp: 1.5 }));
expectType<Chain<[[4]], [[2]], [[4]]>>(inn.input([4]).condition([2]).inverseOf('rnvp')({ subnet: mlp, cond: 0 }));
expectType<Flow<[[3, 8, 8]], [[3, 8, 8]], []>>(inn.input([3, 8, 8]).inverseOf('allInOne')({ subnet: conv }).inverseOf('actNorm')().build());
// The wrapped method's rules: two channels for a coupling, a declared condition, its own options, an image for a conv subnet.
expectError(inn.input([1]).inverseOf('glow')({ subnet: mlp }));
expectError(inn.input([4]).inverseOf('glow')({ subnet: mlp, cond: 0 }));
expectError(inn.input([4]).inverseOf('glow')({ subnet: mlp, clampp: 2 }));
expectError(inn.input([4]).inverseOf('glow')({ subnet: conv }));
expectError(inn.input([4]).inverseOf('glow')({}));
// Only shape-keeping methods: not shape-changing ones, not builder methods, not unknown names.
expectError(inn.input([4]).inverseOf('flatten'));
expectError(inn.input([3, 8, 8]).inverseOf('haarDownsample'));
expectError(inn.input([4]).inverseOf('build'));
expectError(inn.input([4]).inverseOf('glw'));
// One live stream, as for the method.
expectError(inn.input([4]).split([2, 2]).inverseOf('actNorm')());

// ---- graph ----
const g = inn.graph();
const x = g.input([6]);
const c = g.condition([3]);
expectType<Handle<[6]>>(g.inverseOf('rqSpline')(x, { subnet: mlp, cond: c, bins: 4 }));
expectType<Handle<[6]>>(g.inverseOf('permuteRandom')(x));
expectError(g.inverseOf('glow')(g.input([1]), { subnet: mlp }));
expectError(g.inverseOf('glow')(x, {}));
expectError(g.inverseOf('split'));
