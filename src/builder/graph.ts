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
import { WiringError } from '../core/errors.js';
import { defineModule, shapeChanging, shapeKeeping, type InvertibleModule, type RuleOfEntry, type RuleResult } from '../modules/index.js';
import { customKind, type ApplyRule, type ArgsOf, type CustomModuleClass, type RuleOf } from '../modules/custom.js';
import type { InvAutoConv2DOptions, InvAutoConv2DShape, InvAutoFCOptions, InvAutoFCShape } from '../modules/inv-auto.js';
import type { HaarOptions, IRevNetOptions, Downsample, Upsample, Flattened, ReshapeTarget } from '../modules/reshapes.js';
import type { ConcatShape, SplitOptions, SplitSections, SplitShapes } from '../modules/topology.js';
import type { AsShape, AsShapes, MutableShape, Shape, Shapes } from '../types/shape.js';
import type { RuleErrorOr } from './chain.js';
import type { FaceOptions, OptionsParameter, SubnetFit } from './faces.js';
import { checkShape, checkSplit, checkUnused, conditionList, inverseOptions, nodeName, splitOptions, unusedOutput } from './plumbing.js';

declare const handleBrand: unique symbol;

/**
 * One output of one node, with its shape (channels first, without batch) as a type.
 *
 * @group Building
 */
export interface Handle<S extends Shape = Shape> {
  /** The stream's shape, channels first, without batch. */
  readonly shape: S;
  /** The producing node's name. */
  readonly node: string;
  /** Which output of that node. */
  readonly output: number;
  /** @internal */
  readonly [handleBrand]: 'stream';
}

/**
 * A condition input; blocks read it with `{ cond: handle }`.
 *
 * @group Building
 */
export interface ConditionHandle<S extends Shape = Shape> {
  /** The condition's shape. */
  readonly shape: S;
  /** The condition node's name. */
  readonly node: string;
  /** @internal */
  readonly [handleBrand]: 'condition';
}

/**
 * The shapes of a tuple of handles.
 *
 * @group Type machinery
 */
export type ShapesOf<Hs extends readonly { readonly shape: Shape }[]> = { -readonly [K in keyof Hs]: Hs[K]['shape'] };

/**
 * Handles for a tuple of shapes.
 *
 * @group Type machinery
 */
export type HandlesOf<Ss extends Shapes> = { -readonly [K in keyof Ss]: Handle<Ss[K]> };

/**
 * Options every graph block takes besides its own.
 *
 * @group Building
 */
export interface GraphBlockOptions {
  /** Condition(s) the block reads, concatenated in order after the data channels. */
  readonly cond?: ConditionHandle | readonly ConditionHandle[];
  /** Node name (default `<Kind>_<index>`); used in errors, pictures and weight loading. */
  readonly name?: string;
}

type NameOption = { readonly name?: string };

/**
 * What `build` takes: the outputs, and optionally the inputs and conditions in the order `forward` takes them.
 *
 * @group Building
 */
export interface BuildOptions<O, I, C> {
  /** The network's outputs, in the order `forward` returns them. */
  readonly outputs: O;
  /** All inputs in the order `forward` takes them (default: declaration order). */
  readonly inputs?: I;
  /** All conditions in the order `forward` takes them (default: declaration order). */
  readonly conditions?: C;
}

/**
 * The graph builder's methods for the modules that keep their input's shape,
 * one per line of the catalogue's `shapeKeeping` list (with its doc comment):
 * each reads one handle, checks the module's type-level rule on its shape,
 * and takes the module's options plus `name` and, where the module reads
 * conditions, `cond` (condition handles).
 *
 * The reference lists each as the method it is when the rule accepts the
 * handle's shape (`glow(x: Handle<S>, options): Handle<S>`). When it does
 * not, the handle parameter's type carries the rule's message, so the
 * editor underlines the handle with it: for `g.glow(g.input([1, 28, 28]),
 * …)`, `Argument of type 'Handle<[1, 28, 28]>' is not assignable to
 * parameter of type 'Handle<[1, 28, 28]> & ShapeError<"glow splits the
 * channels into two non-empty halves, but [1, 28, 28] has 1 channel: …">'`.
 *
 * @group Building
 */
export type GraphBlocks = {
  readonly [M in keyof typeof shapeKeeping]: <S extends Shape>(
    // `S` is inferred from the handle alone; a rule that fails adds its ShapeError, which the handle cannot satisfy.
    x: Handle<S> & RuleErrorOr<RuleResult<RuleOfEntry<(typeof shapeKeeping)[M]>, NoInfer<S>, M>, unknown>,
    ...options: OptionsParameter<FaceOptions<(typeof shapeKeeping)[M], ConditionHandle | readonly ConditionHandle[], ConditionHandle | readonly [ConditionHandle, ...ConditionHandle[]]> & SubnetFit<(typeof shapeKeeping)[M], NoInfer<S>>>
  ) => Handle<S>;
};

/**
 * A DAG under construction, started by `inn.graph()`. Blocks that keep the shape come from {@link GraphBlocks}.
 *
 * @group Building
 */
export interface GraphBuilder extends GraphBlocks {
  /**
   * Declares a network input of `shape` (channels first, without batch) and
   * returns its handle; `forward` takes the inputs in declaration order
   * unless `build({ inputs })` says otherwise.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([3, 16, 16], { name: 'image' }); // Handle<[3, 16, 16]>
   * const flow = g.build({ outputs: [g.actNorm(x)] });
   * ```
   */
  input<const X extends Shape>(shape: X, options?: NameOption): Handle<MutableShape<X>>;
  /**
   * Declares a condition input of `shape`; blocks read it with
   * `{ cond: handle }` (several are concatenated in order).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([4]);
   * const c = g.condition([10]);
   * const y = g.glow(x, { subnet: subnets.mlp({ hidden: 64 }), cond: c });
   * const flow = g.build({ outputs: [y] }); // flow.forward(x, { c: [labels] })
   * ```
   */
  condition<const X extends Shape>(shape: X, options?: NameOption): ConditionHandle<MutableShape<X>>;

  /**
   * FrEIA's Inverse: `inverseOf(method)` is the builder's method `method`
   * with the module's directions swapped (its forward is the module's
   * inverse), typed and checked exactly as that method. The module must keep
   * its shape and invert exactly (see {@link Inverse}).
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([4]);
   * const flow = g.build({ outputs: [g.inverseOf('rqSpline')(x, { subnet: subnets.mlp({ hidden: 32 }) })] });
   * ```
   */
  inverseOf<M extends keyof GraphBlocks>(method: M): GraphBlocks[M];

  /**
   * FrEIA's InvAutoFC: `y = W x + b`, `[C]` → `[dimsOut]` (default `[C]`). NOT exactly invertible:
   * the inverse is `Wᵀ(y − b)` and the log-det is 0, right only for orthogonal `W` (see {@link InvAutoFC}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.invAutoFC(g.input([5]), { dimsOut: 3 }); // Handle<[3]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  invAutoFC<S extends Shape, const O extends number = never>(x: RuleErrorOr<InvAutoFCShape<S, O>, Handle<S>>, options?: InvAutoFCOptions<O> & NameOption): Handle<AsShape<InvAutoFCShape<S, O>>>;
  /**
   * FrEIA's InvAutoConv2D: a convolution plus bias on `[C, H, W]` (3×3, padding 1 by default). NOT exactly
   * invertible: the inverse is the transposed convolution and the log-det is 0 (see {@link InvAutoConv2D}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.invAutoConv2D(g.input([3, 8, 8])); // Handle<[3, 8, 8]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  invAutoConv2D<S extends Shape, const O extends Shape = never, const K extends number = 3, const P extends number = 1>(
    x: RuleErrorOr<InvAutoConv2DShape<S, O, K, P>, Handle<S>>,
    options?: InvAutoConv2DOptions<O, K, P> & NameOption,
  ): Handle<AsShape<InvAutoConv2DShape<S, O, K, P>>>;

  /**
   * FrEIA's Flatten: any shape → `[numel]`, in PyTorch's row-major order (see {@link Flatten}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.flatten(g.input([2, 4, 4])); // Handle<[32]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  flatten<S extends Shape>(x: Handle<S>, options?: NameOption): Handle<AsShape<Flattened<S>>>;
  /**
   * FrEIA's Reshape: to `shape`, which must have as many elements (the compiler checks literal shapes; see {@link Reshape}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.reshape(g.input([2, 4, 4]), [8, 2, 2]); // Handle<[8, 2, 2]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  reshape<S extends Shape, const X extends Shape>(x: Handle<S>, shape: ReshapeTarget<S, X>, options?: NameOption): Handle<MutableShape<X>>;
  /**
   * FrEIA's IRevNetDownsampling: space-to-depth by 2×2 blocks, `[C, H, W]` → `[4C, H/2, W/2]`, log-det 0 (see {@link IRevNetDownsampling}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.irevnetDownsample(g.input([1, 8, 8])); // Handle<[4, 4, 4]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  irevnetDownsample<S extends Shape>(x: RuleErrorOr<Downsample<S>, Handle<S>>, options?: IRevNetOptions & NameOption): Handle<AsShape<Downsample<S>>>;
  /**
   * FrEIA's IRevNetUpsampling: depth-to-space, `[C, H, W]` → `[C/4, 2H, 2W]`, the inverse of {@link GraphBuilder.irevnetDownsample}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.irevnetUpsample(g.input([4, 4, 4])); // Handle<[1, 8, 8]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  irevnetUpsample<S extends Shape>(x: RuleErrorOr<Upsample<S>, Handle<S>>, options?: IRevNetOptions & NameOption): Handle<AsShape<Upsample<S>>>;
  /**
   * FrEIA's HaarDownsampling: the 2×2 Haar wavelet transform per channel, `[C, H, W]` → `[4C, H/2, W/2]` (see {@link HaarDownsampling}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.haarDownsample(g.input([1, 8, 8])); // Handle<[4, 4, 4]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  haarDownsample<S extends Shape>(x: RuleErrorOr<Downsample<S>, Handle<S>>, options?: HaarOptions & NameOption): Handle<AsShape<Downsample<S>>>;
  /**
   * FrEIA's HaarUpsampling: `[C, H, W]` → `[C/4, 2H, 2W]`, the inverse of {@link GraphBuilder.haarDownsample}.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const y = g.haarUpsample(g.input([4, 4, 4])); // Handle<[1, 8, 8]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  haarUpsample<S extends Shape>(x: RuleErrorOr<Upsample<S>, Handle<S>>, options?: HaarOptions & NameOption): Handle<AsShape<Upsample<S>>>;

  /**
   * FrEIA's Split: along `dim` (default 0, the channels) into sections that must sum to the axis
   * (checked by the compiler for literal shapes); one handle per section (see {@link Split}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const [a, b] = g.split(g.input([6, 4, 4]), [2, 4]); // Handle<[2, 4, 4]>, Handle<[4, 4, 4]>
   * const flow = g.build({ outputs: [a, b] });
   * ```
   */
  split<S extends Shape, const P extends readonly number[], const D extends number = 0>(
    x: Handle<S>,
    sections: SplitSections<S, P, D>,
    options?: { readonly dim?: D; readonly name?: string },
  ): HandlesOf<SplitShapes<S, P, D>>;
  /**
   * FrEIA's Concat: joins handles along `dim` (default 0, the channels); every other dimension
   * must agree (see {@link Concat}).
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([6]);
   * const [a, b] = g.split(x, [2, 4]);
   * const y = g.concat([g.actNorm(a), b]); // Handle<[6]>
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  concat<const Hs extends readonly Handle[], const D extends number = 0>(
    xs: RuleErrorOr<ConcatShape<ShapesOf<Hs>, D>, Hs>,
    options?: { readonly dim?: D; readonly name?: string },
  ): Handle<AsShape<ConcatShape<ShapesOf<Hs>, D>>>;

  /**
   * Applies a custom module (a class extending `InvertibleModule`) to the
   * handles, checked by the shape rule the class declares (default: it keeps
   * the shapes); returns one handle per output.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * import { InvertibleModule, type ModuleResult } from 'freia-ts';
   * import * as tf from '@tensorflow/tfjs';
   * const g = inn.graph();
   * class Negate extends InvertibleModule {
   *   forward([x]: readonly tf.Tensor[]): ModuleResult { return { out: [tf.neg(x)], logDet: 0 }; }
   * }
   * const [y] = g.apply(Negate, [g.input([3])]);
   * const flow = g.build({ outputs: [y] });
   * ```
   */
  apply<M extends new (...args: never[]) => InvertibleModule, const Hs extends readonly Handle[]>(
    module: M,
    inputs: RuleErrorOr<ApplyRule<RuleOf<M>, ShapesOf<Hs>>, Hs>,
    args?: ArgsOf<M>,
    options?: GraphBlockOptions,
  ): HandlesOf<AsShapes<ApplyRule<RuleOf<M>, ShapesOf<Hs>>>>;

  /**
   * Checks the wiring (every output of every node used exactly once or a network output; every
   * condition read) and instantiates the network. `inputs` and `conditions` order `forward`'s arguments.
   *
   * @example
   * ```ts
   * import { inn, subnets } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([2]);
   * const c = g.condition([1]);
   * const y = g.allInOne(x, { subnet: subnets.mlp({ hidden: 32 }), cond: c });
   * const flow = g.build({ outputs: [y], inputs: [x], conditions: [c] }); // Flow<[[2]], [[2]], [[1]]>
   * ```
   */
  build<const O extends readonly Handle[], const I extends readonly Handle[] = readonly Handle[], const C extends readonly ConditionHandle[] = readonly ConditionHandle[]>(
    options: BuildOptions<O, I, C>,
  ): Flow<ShapesOf<I>, ShapesOf<O>, ShapesOf<C>>;
  /**
   * The definition data (what `build` instantiates), after the same checks: plain frozen JSON-able
   * data, for pictures ({@link toMermaid}) or your own tools.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const g = inn.graph();
   * const x = g.input([2]);
   * const graph = g.toGraph({ outputs: [g.actNorm(x)] });
   * console.log(graph.nodes.map((n) => n.name)); // ['input_0', 'ActNorm_1', 'output_0']
   * ```
   */
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

const key = (ref: TensorRef) => `${ref.node}:${ref.output}`;

class GraphBuilderImpl {
  private readonly nodes: NodeDef[] = [];
  /** Which node consumes each output, to reject a second use at once. */
  private readonly consumers = new Map<string, string>();

  private nameFor(kind: string, name: unknown): string {
    return nodeName(kind, name, this.nodes.length, (taken) => this.nodes.some((n) => n.name === taken));
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
  add(kind: string, inputs: readonly unknown[], options: object | undefined): RefHandle[] {
    const { cond, name, args } = splitOptions(options);
    const node = this.nameFor(kind, name);
    const handles = inputs.map((h, k) => this.own(`${node} input ${k}`, h));
    checkUnused(node, handles.map((h) => ({ node: h.node, output: h.output, usedBy: this.consumers.get(key(h.ref)) })));
    const conds = conditionList(cond) as CondRef[];
    for (const c of conds) {
      if (!c || c.owner !== this || c.index === undefined) throw new WiringError(`${node}: cond must be condition handles of this graph`);
    }
    const module = defineModule(node, kind, args, handles.map((h) => h.shape), conds.map((c) => c.shape));
    const added: ModuleNodeDef = { kind: 'module', name: node, module, inputs: handles.map((h) => h.ref), conditions: conds.map((c) => c.index) };
    this.nodes.push(added);
    for (const h of handles) this.consumers.set(key(h.ref), node);
    return module.outputShapes.map((_, output) => this.handle({ node: this.nodes.length - 1, output }));
  }

  one(kind: string, x: unknown, options: object | undefined): RefHandle {
    return this.add(kind, [x], options)[0];
  }

  inverseOf(method: string): (x: unknown, options?: object) => RefHandle {
    inverseOptions(method, undefined); // an unknown method fails here, not at the call
    return (x: unknown, options?: object) => this.one('Inverse', x, inverseOptions(method, options));
  }

  invAutoFC(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.invAutoFC.kind, x, options); }
  invAutoConv2D(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.invAutoConv2D.kind, x, options); }
  flatten(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.flatten.kind, x, options); }
  reshape(x: unknown, shape: readonly number[], options?: object): RefHandle { return this.one(shapeChanging.reshape.kind, x, { ...options, shape: checkShape('reshape', shape) }); }
  irevnetDownsample(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.irevnetDownsample.kind, x, options); }
  irevnetUpsample(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.irevnetUpsample.kind, x, options); }
  haarDownsample(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.haarDownsample.kind, x, options); }
  haarUpsample(x: unknown, options?: object): RefHandle { return this.one(shapeChanging.haarUpsample.kind, x, options); }

  split(x: unknown, sections: readonly number[], options: SplitOptions & NameOption = {}): RefHandle[] {
    const h = this.own('split', x);
    const dim = options.dim ?? 0;
    return this.add(shapeChanging.split.kind, [x], { name: options.name, sections: checkSplit(options.name ?? 'split', h.shape, sections, dim), dim });
  }

  concat(xs: readonly unknown[], options: { dim?: number; name?: string } = {}): RefHandle {
    if (!Array.isArray(xs) || xs.length < 2) throw new WiringError('concat needs at least two handles');
    return this.add(shapeChanging.concat.kind, xs, { name: options.name, dim: options.dim ?? 0 })[0];
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
      checkUnused(`output ${k}`, [{ node: h.node, output: h.output, usedBy: used.get(key(h.ref)) }]);
      used.set(key(h.ref), `output ${k}`);
    });
    // Every output of every node must reach exactly one consumer: an unused one would be lost in the inverse.
    const problems: string[] = [];
    this.nodes.forEach((node, index) => {
      if (node.kind === 'input' && !used.has(key({ node: index, output: 0 }))) problems.push(`input "${node.name}" reaches no output`);
      if (node.kind === 'module') {
        node.module.outputShapes.forEach((shape, output) => {
          if (!used.has(key({ node: index, output }))) problems.push(unusedOutput(node.name, output, shape));
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

// One method per shape-keeping catalogue entry; `GraphBlocks` gives them their types.
for (const [method, entry] of Object.entries(shapeKeeping)) {
  // A catalogue key must not shadow a method of the builder itself (on, repeat, build, ...).
  if (method in GraphBuilderImpl.prototype) throw new Error(`catalogue method "${method}" clashes with a builder method`);
  Object.defineProperty(GraphBuilderImpl.prototype, method, {
    value(this: GraphBuilderImpl, x: unknown, options?: object): RefHandle {
      return this.one(entry.kind, x, options);
    },
  });
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
