/**
 * User-defined modules. A user extends {@link InvertibleModule}, and the
 * builders accept the class itself (`chain.apply(MyModule, args)`,
 * `g.apply(MyModule, [handles], args)`, FrEIA-style `new Node(x, MyModule, args)`).
 * The class is registered on first use under a kind of its own.
 *
 * Unlike the built-in modules, a custom module sees FrEIA's layout:
 * channels-first tensors (`[B, C, H, W]`), so code ported from FrEIA keeps
 * its indexing. Its constructor receives `(dimsIn, dimsC, args)`.
 *
 * A module can declare a type-level shape rule, so the builders check it
 * like a built-in one:
 *
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, InvertibleModule, type ForwardOptions, type ModuleResult, type Mul, type Shape, type ShapeRule } from 'freia-ts';
 *
 * // Doubles every value and appends a copy: [C] -> [2C] (an example of a rule, not a flow).
 * interface DoubleChannels extends ShapeRule {
 *   readonly outputs: [[Mul<this['inputs'][0][0], 2>]];
 * }
 * class Duplicate extends InvertibleModule {
 *   declare static readonly shapeRule: DoubleChannels;
 *   forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
 *     if (rev) return { out: [tf.slice(x, [0, 0], [-1, this.dimsIn[0][0]])], logDet: 0 };
 *     return { out: [tf.concat([x, x], 1)], logDet: 0 };
 *   }
 *   override outputShapes([s]: readonly Shape[]): Shape[] {
 *     return [[2 * s[0]]];
 *   }
 * }
 * const chain = inn.input([3]).apply(Duplicate); // Chain<[[6]], [], [[3]]>
 * ```
 *
 * Without a declared rule a custom module keeps its input shapes.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { toInternal, toPublic } from '../math/layout.js';
import type { ShapeError, Shapes } from '../types/shape.js';
import { InvertibleModule, withVariableCleanup, type ForwardOptions, type ModuleResult } from './base.js';
import { registerModule } from './registry.js';
import { is } from '../core/validation.js';

/**
 * A type-level shape rule: `outputs` is computed from `this['inputs']`
 * (the input shapes the builder applies the module to), as a tuple of shapes
 * or a {@link ShapeError}.
 *
 * @group Modules
 */
export interface ShapeRule {
  /** The input shapes (set by the builder). */
  readonly inputs: Shapes;
  /** The output shapes, or a {@link ShapeError}. */
  readonly outputs: Shapes | ShapeError<string>;
}

/**
 * The result of rule `R` for inputs `In`; a module without a rule (`'keep'`) keeps the shapes.
 *
 * @group Modules
 */
export type ApplyRule<R extends ShapeRule | 'keep', In extends Shapes> = R extends ShapeRule ? (R & { readonly inputs: In })['outputs'] : In;

/**
 * A custom module class: constructed with `(dimsIn, dimsC, args)`.
 *
 * @group Modules
 */
export interface CustomModuleClass<A = never> {
  new (dimsIn: readonly Shape[], dimsC: readonly Shape[], args: A): InvertibleModule;
  /** The class's name (its kind). */
  readonly name: string;
  /** Its type-level shape rule (`declare static readonly shapeRule: R`). */
  readonly shapeRule?: ShapeRule;
  /**
   * `static readonly recomputeByInversion = false` opts the module out of
   * recomputation by inversion (`memory: 'invert'`): it keeps its activations,
   * as a module whose inverse is not exact must.
   */
  readonly recomputeByInversion?: boolean;
}

/**
 * The rule a class declares (`declare static readonly shapeRule: R`), else `'keep'`.
 *
 * @group Modules
 */
export type RuleOf<M> = M extends { readonly shapeRule: infer R extends ShapeRule } ? R : 'keep';

/**
 * The constructor arguments (third parameter) of a custom module class.
 *
 * @group Modules
 */
export type ArgsOf<M> = M extends new (dimsIn: readonly Shape[], dimsC: readonly Shape[], args: infer A) => InvertibleModule ? A : never;

/** Runs a channels-first user module inside the channels-last executor. */
class ChannelsFirstAdapter extends InvertibleModule {
  constructor(readonly inner: InvertibleModule) {
    super(inner.dimsIn, inner.dimsC);
    // Share the same variables, so training, saving and weight loading see the user's parameters.
    for (const [name, variable] of inner.params) this.params.set(name, variable);
  }

  forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], options: ForwardOptions): ModuleResult {
    const result = this.inner.forward(xs.map(toPublic), cs.map(toPublic), options);
    return { out: result.out.map(toInternal), logDet: result.logDet };
  }

  override loadParam(name: string, value: tf.Tensor): void {
    this.inner.loadParam(name, value);
  }

  override dispose(): void {
    this.inner.dispose();
    this.params.clear();
  }
}

/** A custom module's definition arguments: the user's constructor arguments, whatever they are. */
interface CustomArgs {
  readonly args: unknown;
}

const kinds = new WeakMap<CustomModuleClass<unknown>, string>();
let counter = 0;

/** The registry kind of a custom module class, registering it on first use. */
export function customKind(moduleClass: CustomModuleClass<unknown>): string {
  if (typeof moduleClass !== 'function' || !(moduleClass.prototype instanceof InvertibleModule)) {
    throw new FreiaError(`a custom module must be a class extending InvertibleModule, got ${String((moduleClass as { name?: string })?.name ?? moduleClass)}`);
  }
  let kind = kinds.get(moduleClass);
  if (kind) return kind;
  kind = `${moduleClass.name || 'CustomModule'}#${++counter}`;
  kinds.set(moduleClass, kind);
  const construct = (def: ModuleDef<CustomArgs>) => new moduleClass(def.inputShapes, def.conditionShapes, def.args.args);
  registerModule<string, CustomArgs>({
    kind,
    conditions: 'optional',
    options: { args: is.anything },
    recomputeByInversion: moduleClass.recomputeByInversion ?? true,
    outputShapes: (node, inputShapes, conditionShapes, args) => {
      // FrEIA asks a constructed module for its output dims; so do we, then free it.
      let probe: InvertibleModule | undefined;
      try {
        probe = withVariableCleanup(() => new moduleClass(inputShapes, conditionShapes, args.args));
        const shapes = probe.outputShapes ? probe.outputShapes(inputShapes) : [...inputShapes];
        if (!Array.isArray(shapes) || shapes.some((s) => !Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 1))) {
          throw new ShapeMismatchError(node, 'outputShapes() to return a list of shapes', JSON.stringify(shapes));
        }
        return shapes.map((s) => [...s]);
      } catch (error) {
        if (error instanceof FreiaError) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new ShapeMismatchError(node, `inputs ${moduleClass.name} accepts`, inputShapes.map(formatShape).join(', '), message);
      } finally {
        probe?.dispose();
      }
    },
    create: (def) => new ChannelsFirstAdapter(construct(def)),
  });
  return kind;
}
