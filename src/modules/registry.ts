/**
 * What one catalogue entry declares about a module kind, and the registry of
 * kinds added at run time (custom module classes, `registerModule`).
 *
 * An entry is the single source of truth for a module: its kind (FrEIA's
 * class name), how it reads conditions, its options type, its run-time shape
 * rule, its factory, its FrEIA argument mapping and, for modules that keep
 * their input's shape, its type-level rule. The chain, the graph builder and
 * FrEIA's API derive their methods and names from the entries listed in
 * `catalogue.ts`.
 */
import type { ModuleDef, Shape } from '../core/graph.js';
import type { ShapeError } from '../types/shape.js';
import type { InvertibleModule } from './base.js';
import type { OptionCheck, OptionChecks } from '../core/validation.js';

/**
 * How a module reads conditions, which decides the `cond` option of every face:
 * - `'none'`: no `cond` option;
 * - `'optional'`: `cond` may name one or several conditions;
 * - `'required'`: `cond` must name at least one;
 * - `'with-subnet'`: `subnet` and `cond` come together or not at all (a subnet
 *   predicts the parameters from the conditions).
 *
 * @group Modules
 */
export type ConditionUse = 'none' | 'optional' | 'required' | 'with-subnet';

/**
 * A type-level rule of a module that keeps its input's shape: `result` is the
 * shape `this['shape']` when the module accepts it, else a {@link ShapeError}
 * that may name the builder method `this['method']`.
 *
 * @example
 * ```ts
 * import type { KeepRule } from 'freia-ts';
 * // accepts only vectors [C]
 * interface VectorsOnly extends KeepRule {
 *   readonly result: this['shape'] extends readonly [number] ? this['shape'] : never;
 * }
 * ```
 *
 * @group Modules
 */
export interface KeepRule {
  /**
   * `unknown` rather than `Shape | ShapeError`: the rule is applied by
   * intersecting it with the actual shape, and `unknown & S` is exactly `S`.
   */
  readonly shape: unknown;
  /** The builder method, for the error's text. */
  readonly method: string;
  /** The shape, or a {@link ShapeError}. */
  readonly result: unknown;
}

/**
 * The rule of a module that takes any shape: the result is the input's shape.
 *
 * @group Modules
 */
export interface AnyShape extends KeepRule {
  readonly result: this['shape'];
}

/**
 * Rule `R` applied to shape `S` for the builder method `M`: `RuleResult<AnyShape, [3, 4], 'glow'>` is `[3, 4]`.
 *
 * @group Modules
 */
export type RuleResult<R extends KeepRule, S, M extends string> = (R & { readonly shape: S; readonly method: M })['result'];

/**
 * How FrEIA's constructor arguments map onto ours, in both directions
 * (`importFreia` reads them, `exportFreia` inverts them). By default every
 * snake_case argument becomes camelCase and keeps its value.
 *
 * @group Modules
 */
export interface FreiaImport {
  /** FrEIA argument → our option name, where camelCase is not enough. */
  readonly rename?: Readonly<Record<string, string>>;
  /** FrEIA arguments we do not use (e.g. `init_data`). */
  readonly drop?: readonly string[];
  /** Final adjustment of the mapped arguments (tensor-valued arguments, defaults). */
  readonly adjust?: (args: Record<string, unknown>) => Record<string, unknown>;
  /** State-dict keys FrEIA stores but we recompute from other parameters; ignored on import. */
  readonly derived?: readonly string[] | ((args: Record<string, unknown>) => readonly string[]);
  /** Our options FrEIA's constructor does not take (e.g. `seed` of AllInOneBlock, whose weights carry its effect); left out on export. */
  readonly oursOnly?: readonly string[];
  /** FrEIA arguments that are torch tensors (FixedLinearTransform's `M`): an export writes `torch.tensor(...)`. */
  readonly tensorArgs?: readonly string[];
  /** Final adjustment of our options before they become FrEIA's arguments on export (the inverse of `adjust`). */
  readonly adjustExport?: (args: Record<string, unknown>) => Record<string, unknown>;
  /** Why `exportFreia` refuses this kind (a module FrEIA lacks, or one the exporter does not write); absent: exportable. */
  readonly notExported?: string;
  /**
   * Python source of a class named like the kind, which `exportFreia` writes
   * into the module and uses instead of FrEIA's (a subclass of it that takes
   * our options where the two differ, e.g. GaussianMixtureModel's
   * `component`). Its constructor takes `(dims_in, dims_c, **our options in
   * snake_case)`; it keeps them as attributes of the same names, so that
   * `python/freia_export.py` can bring them back.
   */
  readonly pythonClass?: string;
}

declare const typeLevel: unique symbol;

/**
 * Everything the library knows about one module kind. `O` is the options
 * type the module's definition carries as `args`; `R` its type-level rule
 * when it keeps its input's shape.
 *
 * @group Modules
 */
export interface ModuleSpec<K extends string = string, O extends object = object, Use extends ConditionUse = ConditionUse, R extends KeepRule = KeepRule> {
  /** Registry key: FrEIA's class name for FrEIA's modules (and `Fm`'s name). */
  readonly kind: K;
  /** How the module reads conditions (decides the builders' `cond` option). */
  readonly conditions: Use;
  /**
   * The run-time twin of the type-level shape rule: output shapes, or a
   * thrown error naming `node` and the shapes.
   *
   * @example
   * ```ts
   * import { shapeChanging } from 'freia-ts';
   * shapeChanging.haarDownsample.outputShapes('down', [[3, 8, 8]], [], {}); // [[12, 4, 4]]
   * // for [[3, 7, 7]] it throws a ShapeMismatchError: 'down: expected an even height and width, got [3, 7, 7]'
   * ```
   */
  outputShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: O): Shape[];
  /**
   * Instantiates the module for a definition (weights freshly initialised).
   * Flows call it for each module node; a spec given to
   * {@link registerModule} provides it.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { registerModule, InvertibleModule, type ForwardOptions, type ModuleResult } from 'freia-ts';
   * class Negate extends InvertibleModule {
   *   forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], _o: ForwardOptions): ModuleResult { return { out: [tf.neg(x)], logDet: 0 }; }
   * }
   * // def carries the node's input and condition shapes and its options
   * registerModule({ kind: 'Negate', conditions: 'none', outputShapes: (_node, shapes) => [...shapes], create: (def) => new Negate(def.inputShapes, def.conditionShapes) });
   * ```
   */
  create(def: ModuleDef<O>): InvertibleModule;
  /**
   * Whether training with `memory: 'invert'` may recompute this module's
   * input from its output by the inverse pass instead of keeping it (default
   * true: the inverse gives the input back to rounding error). False keeps
   * the module's activations: IResNetLayer (its inverse is a fixed-point
   * iteration, approximate) and the InvAuto family (InvAutoFC and
   * InvAutoConv2D invert by the adjoint, not exactly; the activations have no
   * subnet, so keeping their input costs little).
   */
  readonly recomputeByInversion?: boolean;
  /** How a FrEIA export of this module maps onto it (absent: camelCase arguments, nothing derived). */
  readonly freia?: FreiaImport;
  /**
   * The rule of every option (built-in entries always have them): an
   * unknown option or a value outside its rule is refused, naming the node,
   * before anything is allocated. Absent on a `registerModule` spec: its
   * options are then not checked.
   */
  readonly options?: Readonly<Record<string, OptionCheck>>;
  /**
   * Pairs of integer buffers that hold a permutation and its inverse
   * (`['perm', 'perm_inv']`): loading and importing refuse values that are
   * not permutations of `0..n-1`, or not inverse to each other.
   */
  readonly permutations?: readonly (readonly [string, string])[];
  /** Types only, never present at run time: the options and the type-level rule. */
  readonly [typeLevel]?: { readonly options: O; readonly rule: R };
}

/**
 * The options type of an entry.
 *
 * @group Modules
 */
export type OptionsOf<E> = E extends ModuleSpec<string, infer O, ConditionUse, KeepRule> ? O : never;

/**
 * The type-level rule of an entry.
 *
 * @group Type machinery
 */
export type RuleOfEntry<E> = E extends ModuleSpec<string, object, ConditionUse, infer R> ? R : AnyShape;

/**
 * Declares a catalogue entry with options `O` and (for shape-keeping
 * modules) type-level rule `R`; the kind and condition use are taken
 * literally from the object.
 *
 * @example
 * ```ts
 * import { moduleEntry } from 'freia-ts';
 * // inside a module file: `export const myBlock = moduleEntry<MyOptions>()({ kind: 'MyBlock', conditions: 'none', outputShapes, create })`
 * const entry = moduleEntry<{ readonly gain?: number }>();
 * ```
 *
 * @group Modules
 */
export function moduleEntry<O extends object, R extends KeepRule = AnyShape>() {
  return <const K extends string, const Use extends ConditionUse>(spec: ModuleSpec<K, O, Use, R> & OptionRules<O>): ModuleSpec<K, O, Use, R> =>
    Object.freeze({ ...spec, options: Object.freeze({ ...(spec.options ?? {}) }) });
}

/**
 * What an entry must say about its options: one rule per option of `O`
 * (optional, and then empty, for a module that takes none).
 */
export type OptionRules<O> = [keyof O] extends [never] ? { readonly options?: OptionChecks<O> } : { readonly options: OptionChecks<O> };

/** Kinds added at run time: custom module classes and `registerModule`. */
const added = new Map<string, ModuleSpec>();

/**
 * Adds a module kind at run time, so that definitions, saved flows and FrEIA
 * imports naming it can be instantiated. Built-in modules are listed in the
 * catalogue instead; custom module classes register themselves on first use.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { registerModule, defineModule, Flow, InvertibleModule, type ForwardOptions, type ModuleResult } from 'freia-ts';
 * class Negate extends InvertibleModule {
 *   forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], _o: ForwardOptions): ModuleResult { return { out: [tf.neg(x)], logDet: 0 }; }
 * }
 * registerModule({ kind: 'Negate', conditions: 'none', outputShapes: (_node, shapes) => [...shapes], create: (def) => new Negate(def.inputShapes) });
 * // definitions, saved flows and FrEIA documents naming 'Negate' now instantiate
 * const neg = defineModule('neg', 'Negate', {}, [[2]]);
 * const flow = new Flow({ nodes: [{ kind: 'input', name: 'x', shape: [2] }, { kind: 'module', name: 'neg', module: neg, inputs: [{ node: 0, output: 0 }], conditions: [] }, { kind: 'output', name: 'z', input: { node: 1, output: 0 }, shape: [2] }] });
 * ```
 *
 * @group Modules
 */
export function registerModule<K extends string, O extends object>(spec: ModuleSpec<K, O>): ModuleSpec<K, O> {
  added.set(spec.kind, spec);
  return spec;
}

/** A kind added by {@link registerModule}, if any. */
export function addedModule(kind: string): ModuleSpec | undefined {
  return added.get(kind);
}

/** Every kind added by {@link registerModule}. */
export function addedKinds(): string[] {
  return [...added.keys()];
}

/**
 * The options of a module that takes none.
 *
 * @group Modules
 */
export type NoOptions = Readonly<Record<never, never>>;
