/**
 * Random valid networks for the property tests (test/properties.test.ts):
 * a recipe of small numbers that fast-check generates and shrinks, turned
 * into a chain (splits, concats, conditions, reshapes, down- and upsampling)
 * or a two-input graph, from any catalogue module that is exactly
 * invertible. Left out, with their reason: InvAutoFC and InvAutoConv2D (not
 * invertible, see their docs), InvertibleSigmoid (its inverse needs values
 * in (0, 1)), GaussianMixtureModel (its conditions are mixture parameters).
 */
import fc from 'fast-check';
import { inn, subnets, WiringError, type AnyFlow, type AnySubnet } from '../../src/index.js';

/** One step of a recipe: which operation (modulo those that apply), and two free choices for its options. */
export interface Step {
  readonly op: number;
  readonly a: number;
  readonly b: number;
}

export interface Recipe {
  /** 'chain': one input; 'graph': two vector inputs joined, run, split again. */
  readonly face: 'chain' | 'graph';
  readonly input: readonly number[];
  /** Width of a vector condition, or 0 for none. */
  readonly condition: number;
  readonly steps: readonly Step[];
}

const shapes = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 6 })).map((s) => [...s]),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(2, 4), fc.constantFrom(2)).map((s) => [...s]),
);
const step: fc.Arbitrary<Step> = fc.record({ op: fc.nat(1000), a: fc.nat(1000), b: fc.nat(1000) });

/** Recipes of one to four steps on small shapes (at most 16 values per sample, so the autodiff Jacobian stays cheap). */
export const recipes: fc.Arbitrary<Recipe> = fc.record({
  face: fc.constantFrom<'chain' | 'graph'>('chain', 'chain', 'graph'),
  input: shapes,
  condition: fc.constantFrom(0, 0, 2, 3),
  steps: fc.array(step, { minLength: 1, maxLength: 4 }),
});

type Shape = readonly number[];
type Options = Record<string, unknown>;
/** An operation that keeps the shape: its builder method and options, or null where it does not apply. */
type KeepOp = (shape: Shape, choice: Step, cond: number | undefined) => [string, Options] | null;

const mlp = (hidden: number): AnySubnet => subnets.mlp({ hidden });
const conv = (hidden: number, kernel: 1 | 3): AnySubnet => subnets.conv({ hidden, kernel });
const subnetFor = (shape: Shape, { a }: Step) => (shape.length === 1 ? mlp(4 + (a % 5)) : conv(4, a % 2 ? 3 : 1));
const vector = (shape: Shape) => shape.length === 1;
const withCond = (options: Options, shape: Shape, cond: number | undefined) => (cond !== undefined && vector(shape) ? { ...options, cond } : options);
const activations = ['ATAN', 'TANH', 'SIGMOID'] as const;
/** A well-conditioned matrix: I + 0.3 R with R from the choice. */
const matrix = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) + 0.3 * Math.sin(seed + 7 * i + 3 * j)));

const keepOps: readonly KeepOp[] = [
  () => ['actNorm', {}],
  (_s, { a }) => ['permuteRandom', { seed: a }],
  (_s, { a }) => ['learnedElementwiseScaling', { initScale: 0.5 + (a % 10) / 10 }],
  (_s, { a }) => ['invAutoAct', { slopeInit: 0.5 + (a % 10) / 10 }],
  () => ['invAutoActTwoSided', {}],
  (_s, c) => ['conv1x1LU', { seed: c.a }],
  (s, c, cond) => (s[0] >= 2 ? ['allInOne', withCond({ subnet: subnetFor(s, c), permuteSoft: c.b % 2 === 0, clamp: 1 + (c.a % 3) }, s, cond)] : null),
  (s, c, cond) => (s[0] >= 2 ? ['glow', withCond({ subnet: subnetFor(s, c), clampActivation: activations[c.b % 3], clamp: 1.5 }, s, cond)] : null),
  (s, c, cond) => (s[0] >= 2 ? ['rnvp', withCond({ subnet: subnetFor(s, c), clampActivation: activations[c.b % 3] }, s, cond)] : null),
  (s, c, cond) => (s[0] >= 2 ? ['nice', withCond({ subnet: subnetFor(s, c) }, s, cond)] : null),
  (s, c, cond) => (s[0] >= 2 ? ['gin', withCond({ subnet: subnetFor(s, c) }, s, cond)] : null),
  (s, c, cond) => (s[0] >= 2 ? ['affineCouplingOneSided', withCond({ subnet: subnetFor(s, c) }, s, cond)] : null),
  (s, c, cond) => (cond !== undefined && vector(s) ? ['conditionalAffine', { subnet: subnetFor(s, c), cond }] : null),
  (s, c, cond) => (s[0] >= 2 && vector(s) ? ['rqSpline', withCond({ subnet: subnetFor(s, c), bins: 2 + (c.b % 5) }, s, cond)] : null),
  (s, c) => (vector(s) ? ['elementwiseRqSpline', { bins: 2 + (c.b % 5) }] : null),
  (s) => (vector(s) ? ['orthogonal', {}] : null),
  (s, c) => (vector(s) ? ['householderPerm', { nReflections: 1 + (c.a % 3) }] : null),
  (s, c) => (vector(s) ? ['fixedLinear', { M: matrix(s[0], c.a), b: Array.from({ length: s[0] }, (_, i) => Math.cos(c.b + i)) }] : null),
  (s, c) => (s.length === 3 ? ['fixed1x1Conv', { M: matrix(s[0], c.a) }] : null),
  (s) => (vector(s) && s[0] <= 6 ? ['iresnet', { exactLogDet: true, spectralNorm: 'forward', internalSize: 8 }] : null),
];

/** The untyped view of a chain the recipes drive (the typed chain cannot follow shapes chosen at run time). */
interface LooseChain {
  readonly shapes: readonly Shape[];
  on(index: number, body: (stream: LooseChain) => LooseChain): LooseChain;
  split(sections: readonly number[]): LooseChain;
  concat(): LooseChain;
  build(): AnyFlow;
  [method: string]: unknown;
}
const call = (chain: LooseChain, method: string, ...args: unknown[]) => (chain[method] as (...a: unknown[]) => LooseChain).apply(chain, args);

/** Shape-changing operations of the chain, or null where they do not apply. */
const changeOps: readonly ((chain: LooseChain, shape: Shape, c: Step) => LooseChain | null)[] = [
  (chain, s, c) => (s.length === 3 && s[1] % 2 === 0 && s[2] % 2 === 0 ? call(chain, c.a % 2 ? 'haarDownsample' : 'irevnetDownsample') : null),
  (chain, s, c) => (s.length === 3 && s[0] % 4 === 0 ? call(chain, c.a % 2 ? 'haarUpsample' : 'irevnetUpsample') : null),
  (chain, s) => (s.length === 3 ? call(chain, 'flatten') : null),
  (chain, s) => (vector(s) && s[0] % 4 === 0 ? call(chain, 'reshape', [s[0] / 4, 2, 2]) : null),
  (chain, s, c) => (s[0] >= 2 ? chain.split([1 + (c.a % (s[0] - 1)), s[0] - 1 - (c.a % (s[0] - 1))]) : null),
];

/** Applies one step to a single-stream chain. */
function applyStep(chain: LooseChain, step: Step, cond: number | undefined): LooseChain {
  const shape = chain.shapes[0];
  const keeping = keepOps.map((op) => op(shape, step, cond)).filter((r) => r !== null);
  const changing = changeOps.map((op, k) => [op, k] as const).filter(([op]) => op(chain, shape, step) !== null);
  const total = keeping.length + changing.length;
  const pick = step.op % total;
  if (pick < keeping.length) return call(chain, keeping[pick][0], keeping[pick][1]);
  return changing[pick - keeping.length][0](chain, shape, step)!;
}

/** Concatenates the live streams when their shapes allow it (equal except the channels). */
function joinable(shapes: readonly Shape[]): boolean {
  return shapes.length > 1 && shapes.every((s) => s.length === shapes[0].length && s.every((d, j) => j === 0 || d === shapes[0][j]));
}

/**
 * The flow a recipe describes. A declared condition that no step reads is
 * refused by the builders, so such a recipe is built without it.
 */
export function buildRecipe(recipe: Recipe): AnyFlow {
  const build = (r: Recipe) => (r.face === 'graph' ? buildGraph(r) : buildChain(r));
  try {
    return build(recipe);
  } catch (error) {
    if (recipe.condition > 0 && error instanceof WiringError && /condition/.test(error.message)) return build({ ...recipe, condition: 0 });
    throw error;
  }
}

function buildChain(recipe: Recipe): AnyFlow {
  let chain = inn.input([...recipe.input]) as unknown as LooseChain;
  const cond = recipe.condition > 0 ? 0 : undefined;
  if (cond !== undefined) chain = call(chain, 'condition', [recipe.condition]);
  for (const step of recipe.steps) {
    const streams = chain.shapes.length;
    if (streams > 1 && step.b % 3 === 0 && joinable(chain.shapes)) chain = chain.concat();
    else if (streams > 1) chain = chain.on(step.b % streams, (s) => applyStep(s, step, cond));
    else chain = applyStep(chain, step, cond);
  }
  return chain.build();
}

/** Two vector inputs, concatenated, the recipe's shape-keeping steps, split again: a graph with two inputs and two outputs. */
function buildGraph(recipe: Recipe): AnyFlow {
  const width = recipe.input[0] + 1;
  const g = inn.graph() as unknown as Record<string, (...args: unknown[]) => unknown> & { build(o: { outputs: unknown[] }): AnyFlow };
  const first = g.input([width - 1], { name: 'first' });
  const second = g.input([1], { name: 'second' });
  const condition = recipe.condition > 0 ? g.condition([recipe.condition], { name: 'c' }) : undefined;
  let stream = g.concat([first, second]);
  let shape: Shape = [width];
  for (const step of recipe.steps) {
    const options = keepOps.map((op) => op(shape, step, condition === undefined ? undefined : 0)).filter((r) => r !== null);
    const [method, rawOptions] = options[step.op % options.length];
    const opts = 'cond' in rawOptions ? { ...rawOptions, cond: condition } : rawOptions;
    stream = g[method](stream, opts);
    shape = [width];
  }
  const [a, b] = g.split(stream, [1, width - 1]) as unknown[];
  return g.build({ outputs: [b, a] });
}
