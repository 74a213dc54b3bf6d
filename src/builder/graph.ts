/**
 * The graph builder: arbitrary DAGs of invertible modules (several inputs,
 * outputs and conditions, skip connections) with the same module
 * definitions and the same shape types as the chain. Handles carry their
 * shape as a literal tuple type, so wiring a `[3, 32, 32]` handle into a
 * concat with a `[3, 16, 16]` one does not compile.
 *
 * Like FrEIA's GraphINN the builder is mutable: each method appends a node
 * and returns handles to its outputs. `build` checks that every output of
 * every node is used exactly once (or is a network output) and names the
 * node that breaks the rule.
 */
import type { ConditionNodeDef, GraphDef, InputNodeDef, ModuleNodeDef, NodeDef, TensorRef } from '../core/graph.js';
import { deepFreeze, shapeOf } from '../core/graph.js';
import { Flow } from '../runtime/flow.js';
import { ShapeMismatchError, WiringError, formatShape } from '../core/errors.js';
import { defineModule, type InvertibleModule } from '../modules/base.js';
import { customKind, type ApplyRule, type ArgsOf, type CustomModuleClass, type RuleOf } from '../modules/custom.js';
import type { AllInOneOptions } from '../modules/all-in-one.js';
import type { ConditionalAffineOptions, CouplingOptions } from '../modules/coupling.js';
import type { ElementwiseConditioning, RqSplineOptions, SplineOptions } from '../modules/splines.js';
import type { Fixed1x1ConvOptions, FixedLinearOptions, LearnedElementwiseScalingOptions, RequireImage, RequireVector } from '../modules/fixed.js';
import type { HouseholderPermOptions, OrthogonalOptions } from '../modules/orthogonal.js';
import type { Conv1x1LUOptions } from '../modules/lu-conv.js';
import type { IResNetOptions, IResNetShape } from '../modules/iresnet.js';
import type { InvAutoActOptions, InvAutoActTwoSidedOptions, InvAutoConv2DOptions, InvAutoConv2DShape, InvAutoFCOptions, InvAutoFCShape } from '../modules/inv-auto.js';
import type { GaussianMixtureOptions } from '../modules/gaussian-mixture.js';
import type { PermuteRandomOptions } from '../modules/permute.js';
import type { HaarOptions, IRevNetOptions, Downsample, Upsample, Flattened, ReshapeTarget } from '../modules/reshapes.js';
import type { ConcatShape, SplitOptions, SplitSections, SplitShapes } from '../modules/topology.js';
import type { AsShape, AsShapes, Literal, Shape, Shapes } from '../types/shape.js';
import type { When } from './chain.js';

declare const handleBrand: unique symbol;

/** One output of one node, with its shape (channels first, without batch) as a type. */
export interface Handle<S extends Shape = Shape> {
  readonly shape: S;
  /** The producing node's name. */
  readonly node: string;
  readonly output: number;
  readonly [handleBrand]: 'stream';
}

/** A condition input; blocks read it with `{ cond: handle }`. */
export interface ConditionHandle<S extends Shape = Shape> {
  readonly shape: S;
  readonly node: string;
  readonly [handleBrand]: 'condition';
}

/** The shapes of a tuple of handles. */
export type ShapesOf<Hs extends readonly { readonly shape: Shape }[]> = { -readonly [K in keyof Hs]: Hs[K]['shape'] };

/** Handles for a tuple of shapes. */
export type HandlesOf<Ss extends Shapes> = { -readonly [K in keyof Ss]: Handle<Ss[K]> };

/** Options every graph block takes besides its own. */
export interface GraphBlockOptions {
  /** Condition(s) the block reads, concatenated in order after the data channels. */
  readonly cond?: ConditionHandle | readonly ConditionHandle[];
  /** Node name (default `<Kind>_<index>`); used in errors, pictures and weight loading. */
  readonly name?: string;
}

type NameOption = { readonly name?: string };

/** What `build` takes: the outputs, and optionally the inputs and conditions in the order `forward` takes them. */
export interface BuildOptions<O, I, C> {
  readonly outputs: O;
  /** All inputs in the order `forward` takes them (default: declaration order). */
  readonly inputs?: I;
  /** All conditions in the order `forward` takes them (default: declaration order). */
  readonly conditions?: C;
}

/** A DAG under construction, started by `inn.graph()`. */
export interface GraphBuilder {
  input<const X extends Shape>(shape: X, options?: NameOption): Handle<Literal<X>>;
  condition<const X extends Shape>(shape: X, options?: NameOption): ConditionHandle<Literal<X>>;

  allInOne<S extends Shape>(x: Handle<S>, options: AllInOneOptions & GraphBlockOptions): Handle<S>;
  glow<S extends Shape>(x: Handle<S>, options: CouplingOptions & GraphBlockOptions): Handle<S>;
  rnvp<S extends Shape>(x: Handle<S>, options: CouplingOptions & GraphBlockOptions): Handle<S>;
  nice<S extends Shape>(x: Handle<S>, options: Omit<CouplingOptions, 'clamp' | 'clampActivation'> & GraphBlockOptions): Handle<S>;
  actNorm<S extends Shape>(x: Handle<S>, options?: NameOption): Handle<S>;
  permuteRandom<S extends Shape>(x: Handle<S>, options?: PermuteRandomOptions & NameOption): Handle<S>;
  gin<S extends Shape>(x: Handle<S>, options: CouplingOptions & GraphBlockOptions): Handle<S>;
  affineCouplingOneSided<S extends Shape>(x: Handle<S>, options: CouplingOptions & GraphBlockOptions): Handle<S>;
  conditionalAffine<S extends Shape>(x: Handle<S>, options: ConditionalAffineOptions & NameOption & { readonly cond: ConditionHandle | readonly [ConditionHandle, ...ConditionHandle[]] }): Handle<S>;
  rqSpline<S extends Shape>(x: Handle<S>, options: RqSplineOptions & GraphBlockOptions): Handle<S>;
  elementwiseRqSpline<S extends Shape>(x: Handle<S>, options?: SplineOptions & ElementwiseConditioning<ConditionHandle | readonly ConditionHandle[]> & NameOption): Handle<S>;
  fixedLinear<S extends Shape>(x: When<RequireVector<S, 'fixedLinear'>, Handle<S>>, options: FixedLinearOptions & NameOption): Handle<S>;
  fixed1x1Conv<S extends Shape>(x: When<RequireImage<S, 'fixed1x1Conv'>, Handle<S>>, options: Fixed1x1ConvOptions & NameOption): Handle<S>;
  invertibleSigmoid<S extends Shape>(x: Handle<S>, options?: NameOption): Handle<S>;
  learnedElementwiseScaling<S extends Shape>(x: Handle<S>, options?: LearnedElementwiseScalingOptions & NameOption): Handle<S>;
  orthogonal<S extends Shape>(x: When<RequireVector<S, 'orthogonal'>, Handle<S>>, options?: OrthogonalOptions & NameOption): Handle<S>;
  householderPerm<S extends Shape>(x: When<RequireVector<S, 'householderPerm'>, Handle<S>>, options?: Omit<HouseholderPermOptions, 'cond'> & GraphBlockOptions): Handle<S>;
  conv1x1LU<S extends Shape>(x: Handle<S>, options?: Conv1x1LUOptions & NameOption): Handle<S>;
  iresnet<S extends Shape>(x: When<IResNetShape<S>, Handle<S>>, options?: IResNetOptions & NameOption): Handle<S>;
  invAutoAct<S extends Shape>(x: Handle<S>, options?: InvAutoActOptions & NameOption): Handle<S>;
  /** @deprecated Use `invAutoAct`, with `learnable: false` for a fixed slope (as FrEIA). */
  invAutoActFixed<S extends Shape>(x: Handle<S>, options?: InvAutoActOptions & NameOption): Handle<S>;
  invAutoActTwoSided<S extends Shape>(x: Handle<S>, options?: InvAutoActTwoSidedOptions & NameOption): Handle<S>;
  invAutoFC<S extends Shape, const O extends number = never>(x: When<InvAutoFCShape<S, O>, Handle<S>>, options?: InvAutoFCOptions<O> & NameOption): Handle<AsShape<InvAutoFCShape<S, O>>>;
  invAutoConv2D<S extends Shape, const O extends Shape = never, const K extends number = 3, const P extends number = 1>(
    x: When<InvAutoConv2DShape<S, O, K, P>, Handle<S>>,
    options?: InvAutoConv2DOptions<O, K, P> & NameOption,
  ): Handle<AsShape<InvAutoConv2DShape<S, O, K, P>>>;
  gaussianMixture<S extends Shape>(x: Handle<S>, options: GaussianMixtureOptions & NameOption & { readonly cond: readonly ConditionHandle[] }): Handle<S>;

  flatten<S extends Shape>(x: Handle<S>, options?: NameOption): Handle<AsShape<Flattened<S>>>;
  reshape<S extends Shape, const X extends Shape>(x: Handle<S>, shape: ReshapeTarget<S, X>, options?: NameOption): Handle<Literal<X>>;
  irevnetDownsample<S extends Shape>(x: When<Downsample<S>, Handle<S>>, options?: IRevNetOptions & NameOption): Handle<AsShape<Downsample<S>>>;
  irevnetUpsample<S extends Shape>(x: When<Upsample<S>, Handle<S>>, options?: IRevNetOptions & NameOption): Handle<AsShape<Upsample<S>>>;
  haarDownsample<S extends Shape>(x: When<Downsample<S>, Handle<S>>, options?: HaarOptions & NameOption): Handle<AsShape<Downsample<S>>>;
  haarUpsample<S extends Shape>(x: When<Upsample<S>, Handle<S>>, options?: HaarOptions & NameOption): Handle<AsShape<Upsample<S>>>;

  /** Splits along `dim` (default 0) into sections that must sum to the axis. */
  split<S extends Shape, const P extends readonly number[], const D extends number = 0>(
    x: Handle<S>,
    sections: SplitSections<S, P, D>,
    options?: { readonly dim?: D; readonly name?: string },
  ): HandlesOf<SplitShapes<S, P, D>>;
  /** Joins handles along `dim` (default 0); every other dimension must agree. */
  concat<const Hs extends readonly Handle[], const D extends number = 0>(
    xs: When<ConcatShape<ShapesOf<Hs>, D>, Hs>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Handle<AsShape<ConcatShape<ShapesOf<Hs>, D>>>;

  /**
   * Applies a custom module (a class extending `InvertibleModule`) to the
   * handles, checked by the shape rule the class declares (default: it keeps
   * the shapes); returns one handle per output.
   */
  apply<M extends new (...args: never[]) => InvertibleModule, const Hs extends readonly Handle[]>(
    module: M,
    inputs: When<ApplyRule<RuleOf<M>, ShapesOf<Hs>>, Hs>,
    args?: ArgsOf<M>,
    options?: GraphBlockOptions,
  ): HandlesOf<AsShapes<ApplyRule<RuleOf<M>, ShapesOf<Hs>>>>;

  /** Checks the wiring and instantiates the network. */
  build<const O extends readonly Handle[], const I extends readonly Handle[] = readonly Handle[], const C extends readonly ConditionHandle[] = readonly ConditionHandle[]>(
    options: BuildOptions<O, I, C>,
  ): Flow<ShapesOf<I>, ShapesOf<O>, ShapesOf<C>>;
  /** The definition data (what `build` instantiates), after the same checks. */
  toGraph(options: BuildOptions<readonly Handle[], readonly Handle[], readonly ConditionHandle[]>): GraphDef;
}

interface RefHandle {
  readonly shape: Shape;
  readonly node: string;
  readonly output: number;
  readonly ref: TensorRef;
  readonly owner: GraphBuilderImpl;
}

interface CondRef {
  readonly shape: Shape;
  readonly node: string;
  readonly index: number;
  readonly owner: GraphBuilderImpl;
}

function checkShape(what: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeMismatchError(what, 'a non-empty list of positive integers like [3, 32, 32]', JSON.stringify(shape));
  }
  return Object.freeze([...shape]);
}

const key = (ref: TensorRef) => `${ref.node}:${ref.output}`;

class GraphBuilderImpl {
  private readonly nodes: NodeDef[] = [];
  /** Which node consumes each output, to reject a second use at once. */
  private readonly consumers = new Map<string, string>();

  private nameFor(kind: string, name: unknown): string {
    // Custom kinds carry a registry suffix (`MyModule#3`); node names show the class name.
    const nodeName = typeof name === 'string' ? name : `${kind.replace(/#\d+$/, '')}_${this.nodes.length}`;
    if (this.nodes.some((n) => n.name === nodeName)) throw new WiringError(`node name "${nodeName}" is used twice`);
    return nodeName;
  }

  private handle(ref: TensorRef): RefHandle {
    return Object.freeze({ shape: shapeOf({ nodes: this.nodes }, ref), node: this.nodes[ref.node].name, output: ref.output, ref, owner: this });
  }

  private own(what: string, h: unknown): RefHandle {
    const handle = h as RefHandle;
    if (!handle || handle.owner !== this || !handle.ref) throw new WiringError(`${what}: not a stream handle of this graph`);
    return handle;
  }

  input(shape: readonly number[], options: NameOption = {}): RefHandle {
    const name = this.nameFor('input', options.name ?? `input_${this.nodes.filter((n) => n.kind === 'input').length}`);
    const node: InputNodeDef = { kind: 'input', name, shape: checkShape(name, shape) };
    this.nodes.push(node);
    return this.handle({ node: this.nodes.length - 1, output: 0 });
  }

  condition(shape: readonly number[], options: NameOption = {}): CondRef {
    const name = this.nameFor('condition', options.name ?? `condition_${this.nodes.filter((n) => n.kind === 'condition').length}`);
    const node: ConditionNodeDef = { kind: 'condition', name, shape: checkShape(name, shape) };
    this.nodes.push(node);
    return Object.freeze({ shape: node.shape, node: name, index: this.nodes.length - 1, owner: this });
  }

  /** Appends a module node reading `inputs`; returns handles to its outputs. Nothing is recorded if it fails. */
  add(kind: string, inputs: readonly unknown[], options: Record<string, unknown> = {}): RefHandle[] {
    const { cond, name, ...args } = options;
    const nodeName = this.nameFor(kind, name);
    const handles = inputs.map((h, k) => this.own(`${nodeName} input ${k}`, h));
    for (const h of handles) {
      const consumer = this.consumers.get(key(h.ref));
      if (consumer) throw new WiringError(`${nodeName}: output ${h.output} of "${h.node}" is already used by "${consumer}" (each output feeds exactly one node; split it first)`);
    }
    if (new Set(handles.map((h) => key(h.ref))).size !== handles.length) throw new WiringError(`${nodeName}: the same handle is passed twice`);
    const conds = (cond === undefined ? [] : Array.isArray(cond) ? cond : [cond]) as CondRef[];
    for (const c of conds) {
      if (!c || c.owner !== this || c.index === undefined) throw new WiringError(`${nodeName}: cond must be condition handles of this graph`);
    }
    const module = defineModule(nodeName, kind, args, handles.map((h) => h.shape), conds.map((c) => c.shape));
    const node: ModuleNodeDef = { kind: 'module', name: nodeName, module, inputs: handles.map((h) => h.ref), conditions: conds.map((c) => c.index) };
    this.nodes.push(node);
    for (const h of handles) this.consumers.set(key(h.ref), nodeName);
    return module.outputShapes.map((_, output) => this.handle({ node: this.nodes.length - 1, output }));
  }

  private one(kind: string, x: unknown, options?: object): RefHandle {
    return this.add(kind, [x], { ...options })[0];
  }

  allInOne(x: unknown, options: object): RefHandle { return this.one('AllInOneBlock', x, options); }
  glow(x: unknown, options: object): RefHandle { return this.one('GLOWCouplingBlock', x, options); }
  rnvp(x: unknown, options: object): RefHandle { return this.one('RNVPCouplingBlock', x, options); }
  nice(x: unknown, options: object): RefHandle { return this.one('NICECouplingBlock', x, options); }
  actNorm(x: unknown, options?: object): RefHandle { return this.one('ActNorm', x, options); }
  permuteRandom(x: unknown, options?: object): RefHandle { return this.one('PermuteRandom', x, options); }
  gin(x: unknown, options: object): RefHandle { return this.one('GINCouplingBlock', x, options); }
  affineCouplingOneSided(x: unknown, options: object): RefHandle { return this.one('AffineCouplingOneSided', x, options); }
  conditionalAffine(x: unknown, options: object): RefHandle { return this.one('ConditionalAffineTransform', x, options); }
  rqSpline(x: unknown, options: object): RefHandle { return this.one('RationalQuadraticSpline', x, options); }
  elementwiseRqSpline(x: unknown, options?: object): RefHandle { return this.one('ElementwiseRationalQuadraticSpline', x, options); }
  fixedLinear(x: unknown, options: object): RefHandle { return this.one('FixedLinearTransform', x, options); }
  fixed1x1Conv(x: unknown, options: object): RefHandle { return this.one('Fixed1x1Conv', x, options); }
  invertibleSigmoid(x: unknown, options?: object): RefHandle { return this.one('InvertibleSigmoid', x, options); }
  learnedElementwiseScaling(x: unknown, options?: object): RefHandle { return this.one('LearnedElementwiseScaling', x, options); }
  orthogonal(x: unknown, options?: object): RefHandle { return this.one('OrthogonalTransform', x, options); }
  householderPerm(x: unknown, options?: object): RefHandle { return this.one('HouseholderPerm', x, options); }
  conv1x1LU(x: unknown, options?: object): RefHandle { return this.one('InvertibleConv1x1LU', x, options); }
  iresnet(x: unknown, options?: object): RefHandle { return this.one('IResNetLayer', x, options); }
  invAutoAct(x: unknown, options?: object): RefHandle { return this.one('InvAutoAct', x, options); }
  invAutoActFixed(x: unknown, options?: object): RefHandle { return this.one('InvAutoActFixed', x, options); }
  invAutoActTwoSided(x: unknown, options?: object): RefHandle { return this.one('InvAutoActTwoSided', x, options); }
  invAutoFC(x: unknown, options?: object): RefHandle { return this.one('InvAutoFC', x, options); }
  invAutoConv2D(x: unknown, options?: object): RefHandle { return this.one('InvAutoConv2D', x, options); }
  gaussianMixture(x: unknown, options: object): RefHandle { return this.one('GaussianMixtureModel', x, options); }
  flatten(x: unknown, options?: object): RefHandle { return this.one('Flatten', x, options); }
  reshape(x: unknown, shape: readonly number[], options?: object): RefHandle { return this.one('Reshape', x, { ...options, shape: checkShape('reshape', shape) }); }
  irevnetDownsample(x: unknown, options?: object): RefHandle { return this.one('IRevNetDownsampling', x, options); }
  irevnetUpsample(x: unknown, options?: object): RefHandle { return this.one('IRevNetUpsampling', x, options); }
  haarDownsample(x: unknown, options?: object): RefHandle { return this.one('HaarDownsampling', x, options); }
  haarUpsample(x: unknown, options?: object): RefHandle { return this.one('HaarUpsampling', x, options); }

  split(x: unknown, sections: readonly number[], options: SplitOptions & NameOption = {}): RefHandle[] {
    const h = this.own('split', x);
    const dim = options.dim ?? 0;
    const total = Array.isArray(sections) ? sections.reduce((a, b) => a + b, 0) : NaN;
    if (total !== h.shape[dim]) {
      throw new ShapeMismatchError(options.name ?? 'split', `sections summing to ${h.shape[dim]} (dim ${dim} of ${formatShape(h.shape)})`, JSON.stringify(sections));
    }
    return this.add('Split', [x], { name: options.name, sections: Object.freeze([...sections]), dim });
  }

  concat(xs: readonly unknown[], options: { dim?: number; name?: string } = {}): RefHandle {
    if (!Array.isArray(xs) || xs.length < 2) throw new WiringError('concat needs at least two handles');
    return this.add('Concat', xs, { name: options.name, dim: options.dim ?? 0 })[0];
  }

  apply(module: CustomModuleClass<unknown>, inputs: readonly unknown[], args?: unknown, options: { cond?: unknown; name?: string } = {}): RefHandle[] {
    if (!Array.isArray(inputs)) throw new WiringError('apply(Module, [handles], args): inputs must be a list of handles');
    return this.add(customKind(module), inputs, { ...options, args });
  }

  toGraph(options: { outputs: readonly unknown[]; inputs?: readonly unknown[]; conditions?: readonly unknown[] }): GraphDef {
    const outputs = (options?.outputs ?? []).map((h, k) => this.own(`output ${k}`, h));
    if (outputs.length === 0) throw new WiringError('build needs at least one output');
    const used = new Map(this.consumers);
    outputs.forEach((h, k) => {
      const previous = used.get(key(h.ref));
      if (previous) throw new WiringError(`output ${k}: output ${h.output} of "${h.node}" is already used by "${previous}"`);
      used.set(key(h.ref), `output ${k}`);
    });
    // Every output of every node must reach exactly one consumer: an unused one would be lost in the inverse.
    const problems: string[] = [];
    this.nodes.forEach((node, index) => {
      if (node.kind === 'input' && !used.has(key({ node: index, output: 0 }))) problems.push(`input "${node.name}" reaches no output`);
      if (node.kind === 'module') {
        node.module.outputShapes.forEach((shape, output) => {
          if (!used.has(key({ node: index, output }))) problems.push(`output ${output} ${formatShape(shape)} of "${node.name}" is never used: pass it on or make it a network output`);
        });
      }
      if (node.kind === 'condition' && !this.nodes.some((n) => n.kind === 'module' && n.conditions.includes(index))) {
        problems.push(`condition "${node.name}" is read by no node`);
      }
    });
    if (problems.length) throw new WiringError(`the graph is not fully wired:\n  - ${problems.join('\n  - ')}`);

    const order = <T extends { node: string }>(kind: 'input' | 'condition', given: readonly unknown[] | undefined): number[] => {
      const declared = this.nodes.flatMap((n, i) => (n.kind === kind ? [i] : []));
      if (!given) return declared;
      const indices = given.map((g) => this.nodes.findIndex((n) => n.kind === kind && n.name === (g as T)?.node));
      if (indices.some((i) => i < 0) || new Set(indices).size !== declared.length || indices.length !== declared.length) {
        throw new WiringError(`${kind}s: expected each of ${declared.map((i) => `"${this.nodes[i].name}"`).join(', ')} once, got ${given.map((g) => `"${(g as T)?.node}"`).join(', ')}`);
      }
      return indices;
    };
    const inputOrder = order('input', options.inputs);
    const conditionOrder = order('condition', options.conditions);
    // The executor takes inputs and conditions in node order: put them first, in the requested order.
    const leading = [...inputOrder, ...conditionOrder];
    const rest = this.nodes.map((_, i) => i).filter((i) => !leading.includes(i));
    const permutation = [...leading, ...rest];
    const newIndex = new Map(permutation.map((old, i) => [old, i]));
    const remap = (ref: TensorRef): TensorRef => ({ node: newIndex.get(ref.node)!, output: ref.output });
    const nodes: NodeDef[] = permutation.map((old) => {
      const node = this.nodes[old];
      return node.kind === 'module' ? { ...node, inputs: node.inputs.map(remap), conditions: node.conditions.map((c) => newIndex.get(c)!) } : node;
    });
    outputs.forEach((h, k) => nodes.push({ kind: 'output', name: `output_${k}`, input: remap(h.ref), shape: h.shape }));
    return deepFreeze({ nodes });
  }

  build(options: { outputs: readonly unknown[]; inputs?: readonly unknown[]; conditions?: readonly unknown[] }): Flow {
    return new Flow(this.toGraph(options));
  }
}

/**
 * Starts a graph: any DAG of invertible modules, with typed handles.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const g = inn.graph();
 * const x = g.input([100]);
 * const [p, q] = g.split(x, [40, 60]);
 * const q2 = g.glow(q, { subnet: subnets.mlp({ hidden: 64 }) });
 * const flow = g.build({ outputs: [g.concat([p, q2])] }); // Flow<readonly Shape[], [[100]], ...>
 * ```
 */
export function graph(): GraphBuilder {
  // The implementation is untyped over shapes; the interface carries them. This is the one cast.
  return new GraphBuilderImpl() as unknown as GraphBuilder;
}
