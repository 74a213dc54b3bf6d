/**
 * The fluent chain builder: an exported interface whose generics carry the
 * live streams' shapes, and a private immutable implementation that records
 * definition data. Every method returns a new builder, so a partial chain can
 * be branched and reused. No maths here: each method names a module kind.
 */
import type { GraphDef, InputNodeDef, ConditionNodeDef, ModuleNodeDef, NodeDef, TensorRef } from '../runtime/graph.js';
import { deepFreeze } from '../runtime/graph.js';
import { Flow } from '../runtime/flow.js';
import { FreiaError, ShapeMismatchError, WiringError, formatShape } from '../runtime/errors.js';
import { defineModule } from '../modules/base.js';
import type { AllInOneOptions } from '../modules/all-in-one.js';
import type { CouplingOptions } from '../modules/coupling.js';
import type { PermuteRandomOptions } from '../modules/permute.js';
import type { HaarOptions, IRevNetOptions, Downsample, Upsample, Flattened, ReshapeTarget } from '../modules/reshapes.js';
import type { ConcatShape, SplitSections, SplitShapes } from '../modules/topology.js';
import type { SubnetFactory } from '../modules/subnets.js';
import type { AsShape, Indices, Literal, ReplaceAt, Shape, ShapeError, Shapes, Single } from '../types/shape.js';

/** Which declared conditions a block reads: an index, or several (concatenated in order). */
export type ConditionRef<C extends Shapes> = C extends readonly []
  ? ShapeError<'no condition is declared: add .condition(shape) to the chain first'>
  : Indices<C> | readonly Indices<C>[];

/** Options every block method takes besides its own. */
export interface BlockOptions<C extends Shapes> {
  /** Condition(s) the block reads, by declaration index. */
  readonly cond?: ConditionRef<C>;
  /** Node name (default `<Kind>_<index>`); used in errors, pictures and weight loading. */
  readonly name?: string;
}

/** `this` of a single-stream method whose result is the rule `R`: the chain when `R` holds, else `R`'s error. */
export type When<R, Ok> = R extends ShapeError<string> ? R : Ok;

/**
 * A network under construction. `S`: the live streams' shapes; `C`: the
 * declared conditions; `I`: the network's inputs.
 */
export interface Chain<S extends Shapes, C extends Shapes, I extends Shapes> {
  /** The live streams' shapes at run time. */
  readonly shapes: S;

  /** Declares a condition input; blocks read it with `{ cond: index }`. */
  condition<const X extends Shape>(shape: X): Chain<S, [...C, Literal<X>], I>;

  /** FrEIA's AllInOneBlock: affine coupling, global affine scaling and permutation. */
  allInOne(this: When<Single<S>, Chain<S, C, I>>, options: AllInOneOptions & BlockOptions<C>): Chain<S, C, I>;
  /** GLOWCouplingBlock. */
  glow(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** RNVPCouplingBlock. */
  rnvp(this: When<Single<S>, Chain<S, C, I>>, options: CouplingOptions & BlockOptions<C>): Chain<S, C, I>;
  /** NICECouplingBlock (additive; no clamp). */
  nice(this: When<Single<S>, Chain<S, C, I>>, options: Omit<CouplingOptions, 'clamp' | 'clampActivation'> & BlockOptions<C>): Chain<S, C, I>;
  /** ActNorm with data-dependent initialisation. */
  actNorm(this: When<Single<S>, Chain<S, C, I>>, options?: Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;
  /** PermuteRandom: a fixed random permutation of the channels. */
  permuteRandom(this: When<Single<S>, Chain<S, C, I>>, options?: PermuteRandomOptions & Pick<BlockOptions<C>, 'name'>): Chain<S, C, I>;

  // <couplings: interface methods>
  // <splines: interface methods>
  // <fixed: interface methods>
  // <iresnet-invauto: interface methods>

  /** Flatten to `[numel]`. */
  flatten(this: When<Single<S>, Chain<S, C, I>>, options?: Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Flattened<Single<S>>>], C, I>;
  /** Reshape to `shape` (same number of elements). */
  reshape<const X extends Shape>(this: When<Single<S>, Chain<S, C, I>>, shape: ReshapeTarget<Single<S>, X>, options?: Pick<BlockOptions<C>, 'name'>): Chain<[Literal<X>], C, I>;
  /** IRevNetDownsampling: `[C, H, W]` → `[4C, H/2, W/2]`. */
  irevnetDownsample(this: When<Downsample<Single<S>>, Chain<S, C, I>>, options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Downsample<Single<S>>>], C, I>;
  /** IRevNetUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  irevnetUpsample(this: When<Upsample<Single<S>>, Chain<S, C, I>>, options?: IRevNetOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Upsample<Single<S>>>], C, I>;
  /** HaarDownsampling: `[C, H, W]` → `[4C, H/2, W/2]`. */
  haarDownsample(this: When<Downsample<Single<S>>, Chain<S, C, I>>, options?: HaarOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Downsample<Single<S>>>], C, I>;
  /** HaarUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`. */
  haarUpsample(this: When<Upsample<Single<S>>, Chain<S, C, I>>, options?: HaarOptions & Pick<BlockOptions<C>, 'name'>): Chain<[AsShape<Upsample<Single<S>>>], C, I>;

  /** Splits the stream into sections along `dim` (default 0, channels); they must sum to the axis. */
  split<const P extends readonly number[], const D extends number = 0>(
    this: When<Single<S>, Chain<S, C, I>>,
    sections: SplitSections<Single<S>, P, D>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Chain<SplitShapes<AsShape<Single<S>>, P, D>, C, I>;
  /** Joins every live stream along `dim` (default 0, channels). */
  concat<const D extends number = 0>(
    this: When<ConcatShape<S, D>, Chain<S, C, I>>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Chain<[AsShape<ConcatShape<S, D>>], C, I>;
  /** Applies `body` to live stream `index`; the streams it returns take that stream's place. */
  on<const K extends Indices<S>, const X extends Shapes>(index: K, body: (stream: Chain<[S[K]], C, I>) => Chain<X, C, I>): Chain<ReplaceAt<S, K, X>, C, I>;
  /** Applies `body` `n` times (`k` = 0..n-1); the body must keep the shapes. */
  repeat(n: number, body: (chain: Chain<S, C, I>, k: number) => Chain<S, C, I>): Chain<S, C, I>;

  /** Makes every live stream an output and instantiates the network. */
  build(): Flow<I, S, C>;
  /** The definition data the chain describes (what `build` instantiates). */
  toGraph(): GraphDef;
}

interface ChainState {
  readonly nodes: readonly NodeDef[];
  readonly streams: readonly TensorRef[];
  readonly conditions: readonly number[];
}

function checkShape(what: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeMismatchError(what, 'a non-empty list of positive integers like [3, 32, 32]', JSON.stringify(shape));
  }
  return Object.freeze([...shape]);
}

function streamShape(state: ChainState, ref: TensorRef): readonly number[] {
  const node = state.nodes[ref.node];
  return node.kind === 'module' ? node.module.outputShapes[ref.output] : (node as InputNodeDef).shape;
}

class ChainImpl {
  constructor(private readonly state: ChainState) {}

  get shapes(): readonly (readonly number[])[] {
    return this.state.streams.map((ref) => streamShape(this.state, ref));
  }

  condition(shape: readonly number[]): ChainImpl {
    const node: ConditionNodeDef = { kind: 'condition', name: `condition_${this.state.conditions.length}`, shape: checkShape('condition', shape) };
    return new ChainImpl({ ...this.state, nodes: [...this.state.nodes, node], conditions: [...this.state.conditions, this.state.nodes.length] });
  }

  /** Appends one module node reading `inputs`; its outputs become the live streams in their place. */
  private add(kind: string, options: Record<string, unknown> = {}, inputs: readonly TensorRef[] = this.single(kind)): ChainImpl {
    const { cond, name, ...args } = options;
    const index = this.state.nodes.length;
    const nodeName = typeof name === 'string' ? name : `${kind}_${index}`;
    if (this.state.nodes.some((n) => n.name === nodeName)) throw new WiringError(`node name "${nodeName}" is used twice`);
    const condIndices = cond === undefined ? [] : Array.isArray(cond) ? (cond as number[]) : [cond as number];
    const conditions = condIndices.map((k) => {
      if (!Number.isInteger(k) || k < 0 || k >= this.state.conditions.length) {
        throw new WiringError(`${nodeName}: condition ${k} is not declared (declared: ${this.state.conditions.length})`);
      }
      return this.state.conditions[k];
    });
    const module = defineModule(
      nodeName,
      kind,
      args,
      inputs.map((ref) => streamShape(this.state, ref)),
      conditions.map((c) => (this.state.nodes[c] as ConditionNodeDef).shape),
    );
    const node: ModuleNodeDef = { kind: 'module', name: nodeName, module, inputs, conditions };
    const outputs = module.outputShapes.map((_, output) => ({ node: index, output }));
    const first = this.state.streams.indexOf(inputs[0]);
    const streams = [...this.state.streams.slice(0, first), ...outputs, ...this.state.streams.slice(first + inputs.length)];
    return new ChainImpl({ ...this.state, nodes: [...this.state.nodes, node], streams });
  }

  private single(what: string): readonly TensorRef[] {
    if (this.state.streams.length !== 1) {
      throw new WiringError(`${what} needs exactly one live stream, but ${this.state.streams.length} are live (${this.shapes.map(formatShape).join(', ')}): use .on(i, ...) or .concat() first`);
    }
    return this.state.streams;
  }

  allInOne(options: object): ChainImpl { return this.add('AllInOneBlock', { ...options }); }
  glow(options: object): ChainImpl { return this.add('GLOWCouplingBlock', { ...options }); }
  rnvp(options: object): ChainImpl { return this.add('RNVPCouplingBlock', { ...options }); }
  nice(options: object): ChainImpl { return this.add('NICECouplingBlock', { ...options }); }
  actNorm(options?: object): ChainImpl { return this.add('ActNorm', { ...options }); }
  permuteRandom(options?: object): ChainImpl { return this.add('PermuteRandom', { ...options }); }
  // <couplings: implementation methods>
  // <splines: implementation methods>
  // <fixed: implementation methods>
  // <iresnet-invauto: implementation methods>
  flatten(options?: object): ChainImpl { return this.add('Flatten', { ...options }); }
  reshape(shape: readonly number[], options?: object): ChainImpl { return this.add('Reshape', { ...options, shape: checkShape('reshape', shape) }); }
  irevnetDownsample(options?: object): ChainImpl { return this.add('IRevNetDownsampling', { ...options }); }
  irevnetUpsample(options?: object): ChainImpl { return this.add('IRevNetUpsampling', { ...options }); }
  haarDownsample(options?: object): ChainImpl { return this.add('HaarDownsampling', { ...options }); }
  haarUpsample(options?: object): ChainImpl { return this.add('HaarUpsampling', { ...options }); }

  split(sections: readonly number[], options: { dim?: number; name?: string } = {}): ChainImpl {
    const [shape] = this.single('split').map((ref) => streamShape(this.state, ref));
    const dim = options.dim ?? 0;
    const total = Array.isArray(sections) ? sections.reduce((a, b) => a + b, 0) : NaN;
    if (total !== shape[dim]) {
      // The typed builder is stricter than FrEIA (no implicit slack section): say so at run time too.
      throw new ShapeMismatchError(options.name ?? 'split', `sections summing to ${shape[dim]} (dim ${dim} of ${formatShape(shape)})`, JSON.stringify(sections));
    }
    return this.add('Split', { name: options.name, sections: Object.freeze([...sections]), dim });
  }

  concat(options: { dim?: number; name?: string } = {}): ChainImpl {
    if (this.state.streams.length < 2) throw new WiringError(`concat needs at least two live streams, but ${this.state.streams.length} are live`);
    return this.add('Concat', { name: options.name, dim: options.dim ?? 0 }, this.state.streams);
  }

  on(index: number, body: (stream: ChainImpl) => ChainImpl): ChainImpl {
    const { streams } = this.state;
    if (!Number.isInteger(index) || index < 0 || index >= streams.length) {
      throw new WiringError(`on(${index}): there are ${streams.length} live streams`);
    }
    const result = body(new ChainImpl({ ...this.state, streams: [streams[index]] }));
    const nodes = result.state.nodes;
    if (!(result instanceof ChainImpl) || this.state.nodes.some((n, i) => nodes[i] !== n)) {
      throw new WiringError(`on(${index}): the body must return the chain it was given, extended`);
    }
    return new ChainImpl({ ...result.state, streams: [...streams.slice(0, index), ...result.state.streams, ...streams.slice(index + 1)] });
  }

  repeat(n: number, body: (chain: ChainImpl, k: number) => ChainImpl): ChainImpl {
    if (!Number.isInteger(n) || n < 0) throw new WiringError(`repeat(${n}): n must be a whole number`);
    const before = JSON.stringify(this.shapes);
    let chain: ChainImpl = this;
    for (let k = 0; k < n; k++) {
      chain = body(chain, k);
      if (!(chain instanceof ChainImpl) || JSON.stringify(chain.shapes) !== before) {
        throw new ShapeMismatchError(`repeat step ${k}`, `a body that keeps the shapes ${before}`, chain instanceof ChainImpl ? JSON.stringify(chain.shapes) : String(chain));
      }
    }
    return chain;
  }

  toGraph(): GraphDef {
    const outputs: NodeDef[] = this.state.streams.map((input, k) => ({ kind: 'output', name: `output_${k}`, input, shape: streamShape(this.state, input) }));
    return deepFreeze({ nodes: [...this.state.nodes, ...outputs] });
  }

  build(): Flow {
    return new Flow(this.toGraph());
  }
}

/**
 * Starts a chain from one input of the given shape (channels first, without batch).
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const flow = inn.input([2])
 *   .repeat(8, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 512 }), permuteSoft: true }))
 *   .build();
 * ```
 */
export function input<const X extends Shape>(shape: X): Chain<[Literal<X>], [], [Literal<X>]> {
  const node: InputNodeDef = { kind: 'input', name: 'input_0', shape: checkShape('input', shape) };
  const chain = new ChainImpl({ nodes: [node], streams: [{ node: 0, output: 0 }], conditions: [] });
  // The implementation is untyped over shapes; the interface carries them. This is the one cast.
  return chain as unknown as Chain<[Literal<X>], [], [Literal<X>]>;
}

export { FreiaError };
export type { SubnetFactory };
