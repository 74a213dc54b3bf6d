/**
 * The faces derived from the catalogue: each entry's condition use decides
 * the `cond` option in the chain (indices) and in the graph (handles), an
 * options object is optional exactly when every option is, and `Fm` names
 * exactly the catalogue's kinds.
 */
import { expectError, expectType } from 'tsd';
import { Fm, inn, subnets, type Chain, type Handle } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 8 });
const g = inn.graph();
const x = g.input([4]);
const c = g.condition([3]);

// 'none': no cond option in either face
expectError(g.actNorm(x, { cond: c }));
expectError(inn.input([4]).condition([3]).actNorm({ cond: 0 }));
expectType<Handle<[4]>>(g.actNorm(x));

// 'optional': a handle or a list of handles; indices in the chain
expectType<Handle<[4]>>(g.glow(x, { subnet: mlp, cond: c }));
expectType<Handle<[4]>>(g.glow(g.input([4]), { subnet: mlp, cond: [c, g.condition([2])] }));
expectType<Chain<[[4]], [[3]], [[4]]>>(inn.input([4]).condition([3]).glow({ subnet: mlp, cond: [0] }));
expectError(g.glow(g.input([4]), { subnet: mlp, cond: 0 }));

// 'required': at least one condition, in both faces
expectError(g.conditionalAffine(g.input([4]), { subnet: mlp }));
expectError(g.conditionalAffine(g.input([4]), { subnet: mlp, cond: [] }));
expectType<Handle<[4]>>(g.conditionalAffine(g.input([4]), { subnet: mlp, cond: [g.condition([2])] }));
expectError(g.gaussianMixture(g.input([2])));
expectError(inn.input([2]).condition([1]).gaussianMixture({}));

// 'with-subnet': subnet and cond together or not at all
expectType<Handle<[4]>>(g.elementwiseRqSpline(g.input([4])));
expectType<Handle<[4]>>(g.elementwiseRqSpline(g.input([4]), { subnet: mlp, cond: g.condition([2]) }));
expectError(g.elementwiseRqSpline(g.input([4]), { subnet: mlp }));
expectError(g.elementwiseRqSpline(g.input([4]), { cond: g.condition([2]) }));

// options are optional exactly when every option is
expectError(g.glow(g.input([4])));
expectError(inn.input([4]).glow());
expectError(inn.input([4]).fixedLinear());
expectType<Chain<[[4]], [], [[4]]>>(inn.input([4]).permuteRandom());

// the entry's type-level rule, in the graph face too
expectError(g.fixedLinear(g.input([2, 4, 4]), { M: [[1]] }));
expectError(g.iresnet(g.input([2, 4])));
expectType<Handle<[2, 4, 4]>>(g.iresnet(g.input([2, 4, 4])));

// Fm: the catalogue's kinds, each its own name
expectType<'GLOWCouplingBlock'>(Fm.GLOWCouplingBlock);
expectType<'InvertibleConv1x1LU'>(Fm.InvertibleConv1x1LU);
expectError(Fm.NotAModule);
