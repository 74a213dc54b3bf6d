/** The graph builder's handles carry shapes; mis-wired graphs do not compile. */
import { expectError, expectType } from 'tsd';
import { inn, subnets, type Flow, type Handle } from '../dist/index.js';

const mlp = subnets.mlp({ hidden: 32 });
const g = inn.graph();
const a = g.input([100]);
expectType<Handle<[100]>>(a);
const b = g.input([20]);
const c = g.condition([42]);
const perm = g.permuteRandom(a);
expectType<Handle<[100]>>(perm);
const halves = g.split(perm, [50, 50]);
expectType<[Handle<[50]>, Handle<[50]>]>(halves);
const quarters = g.split(halves[1], [25, 25]);
const normed = g.actNorm(quarters[1]);
const joined = g.concat([normed, b]);
expectType<Handle<[45]>>(joined);
const coupled = g.glow(joined, { subnet: mlp, cond: c });
const out2 = g.concat([quarters[0], coupled]);
expectType<Handle<[70]>>(out2);
expectType<Flow<[[100], [20]], [[50], [70]], [[42]]>>(g.build({ outputs: [halves[0], out2], inputs: [a, b], conditions: [c] }));

const img = g.input([3, 32, 32]);
expectType<Handle<[12, 16, 16]>>(g.irevnetDownsample(img));
expectType<Handle<[3072]>>(g.flatten(g.input([3, 32, 32])));
expectType<[Handle<[3, 16, 32]>, Handle<[3, 16, 32]>]>(g.split(g.input([3, 32, 32]), [16, 16], { dim: 1 }));
expectType<Handle<[4, 8, 8]>>(g.reshape(g.input([256]), [4, 8, 8]));

// wiring a [3,32,32] handle into a concat with a [3,16,16] one must not compile
expectError(g.concat([g.input([3, 32, 32]), g.input([3, 16, 16])]));
expectError(g.concat([g.input([3, 32, 32]), g.input([3, 32, 16])], { dim: 0 }));
expectError(g.concat([g.input([3, 32, 32])]));
expectError(g.split(g.input([100]), [40, 50]));
expectError(g.irevnetDownsample(g.input([3, 31, 32])));
expectError(g.haarUpsample(g.input([6, 8, 8])));
expectError(g.reshape(g.input([100]), [3, 33]));
expectError(g.glow(g.input([4]), { subnet: mlp, cond: g.input([3]) }));
expectError(g.actNorm(g.condition([3])));
