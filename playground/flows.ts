/**
 * The flows the playground offers, as builder code: the settings (block,
 * depth, hidden width) make the TypeScript shown beside the plots, and the
 * flow that trains is built by running that same text (it is plain
 * JavaScript too), so what you read is what runs.
 */
import { inn, subnets, type Flow } from '../src/index.js';

/** The playground's flows: one stream of 2 numbers in, one out, no conditions. */
export type Flow2d = Flow<[[2]], [[2]], []>;

/** The block menu's entries. */
export type BlockName = 'allInOne' | 'glow' | 'rnvp' | 'nice' | 'rqSpline' | 'maf' | 'arSpline';

/** What the flow menus choose. */
export interface FlowSettings {
  readonly block: BlockName;
  readonly depth: number;
  readonly hidden: number;
}

/** Each block's call inside `repeat`, as text, for a hidden width `h`; `k` is the block's index. */
const blockCalls: Readonly<Record<BlockName, { readonly label: string; readonly call: (h: number) => string }>> = {
  allInOne: { label: 'AllInOne coupling', call: (h) => `(c) => c.allInOne({ subnet: subnets.mlp({ hidden: ${h} }), permuteSoft: true })` },
  glow: { label: 'GLOW coupling', call: (h) => `(c) => c.glow({ subnet: subnets.mlp({ hidden: ${h} }), clamp: 2 })` },
  rnvp: { label: 'RealNVP coupling', call: (h) => `(c) => c.rnvp({ subnet: subnets.mlp({ hidden: ${h} }), clamp: 2 })` },
  nice: { label: 'NICE (additive) coupling', call: (h) => `(c) => c.nice({ subnet: subnets.mlp({ hidden: ${h} }) })` },
  rqSpline: { label: 'rational-quadratic spline coupling', call: (h) => `(c) => c.rqSpline({ subnet: subnets.mlp({ hidden: ${h} }), bins: 8, defaultDomain: [-5, 5, -5, 5] })` },
  maf: { label: 'MAF (masked autoregressive)', call: (h) => `(c, k) => c.maf({ hidden: ${h}, order: k % 2 ? 'reversed' : 'natural' })` },
  arSpline: { label: 'autoregressive spline (NSF)', call: (h) => `(c, k) => c.arSpline({ hidden: ${h}, bins: 8, defaultDomain: [-5, 5, -5, 5], order: k % 2 ? 'reversed' : 'natural' })` },
};

export const blockNames = Object.keys(blockCalls) as BlockName[];
export const blockLabel = (block: BlockName): string => blockCalls[block].label;

/** The statement that builds the flow: `const flow = inn.input([2]) ... .build();`. */
export function flowStatement(settings: FlowSettings): string {
  return [
    'const flow = inn.input([2])',
    `  .repeat(${settings.depth}, ${blockCalls[settings.block].call(settings.hidden)})`,
    '  .build();',
  ].join('\n');
}

/** The whole snippet shown on the page: the import, the flow, and how the page trains it. */
export function builderCode(settings: FlowSettings, learningRate: number, batch: number): string {
  return [
    "import { inn, subnets, train, dist } from 'freia-ts';",
    '',
    flowStatement(settings),
    '',
    `// the page: ${batch} fresh points per step, Adam, gradients clipped at norm 5`,
    `const optimizer = train.adam(${learningRate});`,
    `await train.fitAsync(flow, { data: () => ({ x: batch(${batch}) }), steps: 10, optimizer, clipNorm: 5, progress: false });`,
    'const samples = dist.pullBack(flow).sample(500); // [500, 2]',
  ].join('\n');
}

/** Builds the flow by running {@link flowStatement}'s text. */
export function buildFlow(settings: FlowSettings): Flow2d {
  const make = new Function('inn', 'subnets', `${flowStatement(settings)}\nreturn flow;`) as (i: typeof inn, s: typeof subnets) => Flow2d;
  return make(inn, subnets);
}
