/**
 * Checkpoints that resume training: a flow, its optimizer's state and the
 * step count, saved through `tf.io` like {@link saveFlow} (a URL or an
 * `IOHandler`), in one set of artifacts:
 *
 * - `modelTopology`: the flow's {@link FlowTopology} plus
 *   `checkpoint: { step, optimizer: { className, config } }`; the class name
 *   is the optimizer's in `tf.serialization` (our `Adam` registers as
 *   `FreiaAdam`; tfjs's own are `Adam`, `SGD`, `Momentum`, `RMSProp`,
 *   `Adagrad`, `Adadelta`);
 * - the flow's weights as `<node>/<param>`, then the optimizer's state in the
 *   same binary data: `~optimizer/iterations` (int32) and every slot as
 *   `~optimizer/<node>/<param>/<slot>` (Adam's `m` and `v`), in the order the
 *   optimizer's `getWeights` gives them.
 *
 * An optimizer keys its state by tf variable names, which a reloaded flow
 * does not keep; the checkpoint names the state by the flow's own weight
 * names and maps it back onto the reloaded flow's variables. `loadFlow` and
 * `loadModel` read a checkpoint as its flow and ignore the optimizer.
 *
 * This folder may not import src/train: the optimizer class is found through
 * `tf.serialization`'s registry, where `Adam` registers itself.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyFlow, Flow } from '../runtime/flow.js';
import { FreiaError, ValidationError, formatShape } from '../core/errors.js';
import { checkOptions, describeValue } from '../core/validation.js';
import { SOURCE_OPTIONS, flowArtifacts, handlerFor, loadFlow, type FlowDestination, type LoadFlowOptions } from './persistence.js';
import { OPTIMIZER_PREFIX, sameShape, separateWeights, weightValues, type WeightPart } from './saved-format.js';

/**
 * What {@link saveCheckpoint} saves and {@link loadCheckpoint} gives back.
 *
 * @group Import/export
 */
export interface Checkpoint<F extends AnyFlow = Flow> {
  /** The flow, with its weights. */
  readonly flow: F;
  /** Any tfjs optimizer registered with `tf.serialization` whose `getWeights` works (`train.adam`, `tf.train.adam`, `tf.train.sgd`, ...). */
  readonly optimizer: tf.Optimizer;
  /** The training step the checkpoint was taken after (a whole number ≥ 0; yours to count). */
  readonly step: number;
}

/**
 * What a checkpoint adds to the flow's `modelTopology`.
 *
 * @group Import/export
 */
export interface CheckpointTopology {
  /** The training step it was taken after. */
  readonly step: number;
  /** The optimizer's class and configuration, as `tf.serialization` stores them. */
  readonly optimizer: {
    /** Its registered class name. */
    readonly className: string;
    /** Its `getConfig()`. */
    readonly config: tf.serialization.ConfigDict;
  };
}

/**
 * A checkpoint could not be saved or read: `problems` names each stored
 * weight or field at fault, with the expected and actual shape where one
 * does not fit. Nothing is left allocated. (A fault in the flow's own part
 * is a `FlowFormatError`.)
 *
 * @group Errors
 */
export class CheckpointError extends FreiaError {
  /** Always `'CheckpointError'` (for `error.name` checks). */
  override readonly name = 'CheckpointError';
  constructor(
    /** Each weight or field at fault. */
    readonly problems: readonly string[],
    action: 'save' | 'load' = 'load',
  ) {
    super(`cannot ${action} the checkpoint: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}`);
  }
}

const ITERATIONS = `${OPTIMIZER_PREFIX}iterations`;

/** tfjs's `NamedTensor` (not exported from the package root). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** An optimizer class tf.serialization knows by this name, with its fromConfig. */
function optimizerClass(className: string): [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>] | undefined {
  const entry = Object.hasOwn(tf.serialization.SerializationMap.getMap().classNameMap, className) ? tf.serialization.SerializationMap.getMap().classNameMap[className] : undefined;
  return entry && entry[0].prototype instanceof tf.Optimizer ? entry : undefined;
}

/** Every trainable variable of the flow by its tf name, as its stable `<node>/<param>` name. */
function stableNames(flow: AnyFlow): Map<string, string> {
  const names = new Map<string, string>();
  flow.graph.nodes.forEach((node, i) => {
    for (const [param, variable] of flow.modules[i]?.params ?? []) if (variable.trainable) names.set(variable.name, `${node.name}/${param}`);
  });
  return names;
}

/** The longest key of `names` that `name` starts with, followed by `/`, and the rest: a variable and its slot. */
function splitSlot(name: string, names: Iterable<string>): [string, string] | undefined {
  let best: string | undefined;
  for (const candidate of names) {
    if (name.startsWith(`${candidate}/`) && name.length > candidate.length + 1 && (best === undefined || candidate.length > best.length)) best = candidate;
  }
  const slot = best === undefined ? '' : name.slice(best.length + 1);
  return best === undefined || slot.includes('/') ? undefined : [best, slot];
}

/**
 * Saves a flow, its optimizer's state and the step count through `tf.io`
 * (a URL or an `IOHandler`, as {@link saveFlow}), so that
 * {@link loadCheckpoint} resumes training exactly where it stopped.
 *
 * Fails with a {@link CheckpointError}, before anything is written, for an
 * optimizer `tf.serialization` cannot rebuild by name, one whose
 * `getWeights` does not work (tfjs's Adamax), or one holding state for a
 * variable that is no trainable parameter of the flow.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train, saveCheckpoint, loadCheckpoint, memoryHandler } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 16 }) }).build();
 * const optimizer = train.adam(1e-3);
 * const x = tf.randomNormal([64, 2]);
 * tf.tidy(() => optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, x), flow.trainableVariables).grads));
 * const store = memoryHandler();                        // or 'indexeddb://run-1', 'file://run-1' with freia-ts/node
 * await saveCheckpoint({ flow, optimizer, step: 1 }, store);
 * const resumed = await loadCheckpoint(store);          // { flow, optimizer, step: 1 }
 * ```
 *
 * @group Import/export
 */
export async function saveCheckpoint(checkpoint: Checkpoint<AnyFlow>, destination: FlowDestination): Promise<tf.io.SaveResult> {
  if (!isObject(checkpoint)) throw new ValidationError('saveCheckpoint', 'checkpoint', '{ flow, optimizer, step }', describeValue(checkpoint));
  const { flow, optimizer, step } = checkpoint;
  if (!(optimizer instanceof tf.Optimizer)) throw new ValidationError('saveCheckpoint', 'optimizer', 'a tfjs optimizer (train.adam, tf.train.adam, ...)', describeValue(optimizer));
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new ValidationError('saveCheckpoint', 'step', 'a whole number ≥ 0', describeValue(step));
  const className = (optimizer.constructor as { className?: unknown }).className;
  if (typeof className !== 'string' || optimizerClass(className)?.[0] !== optimizer.constructor) {
    throw new CheckpointError([`saveCheckpoint: the optimizer's class ${optimizer.constructor.name} is not registered with tf.serialization under its className ${JSON.stringify(className)}, so a checkpoint could not rebuild it (tf.serialization.registerClass)`], 'save');
  }
  const handler = typeof destination === 'string' ? handlerFor(destination, 'save') : destination;
  if (typeof handler?.save !== 'function') throw new FreiaError('saveCheckpoint: the IOHandler has no save method');
  const artifacts = await flowArtifacts(flow); // checks the flow (and its subnets) first
  let state: NamedTensor[];
  try {
    state = await optimizer.getWeights();
  } catch (error) {
    throw new CheckpointError([`saveCheckpoint: the optimizer (${className}) cannot report its state: ${error instanceof Error ? error.message : String(error)}`], 'save');
  }
  const [iterations, ...slots] = state; // tfjs's layout: the iteration count first
  try {
    const names = stableNames(flow);
    const named: tf.NamedTensorMap = {};
    Object.defineProperty(named, ITERATIONS, { value: iterations.tensor, enumerable: true });
    for (const { name, tensor } of slots) {
      const split = splitSlot(name, names.keys());
      if (!split) throw new CheckpointError([`saveCheckpoint: the optimizer holds state "${name}" for a variable that is no trainable parameter of the flow`], 'save');
      // defineProperty: a node named "__proto__" must stay an own key of the map.
      Object.defineProperty(named, `${OPTIMIZER_PREFIX}${names.get(split[0])}/${split[1]}`, { value: tensor, enumerable: true });
    }
    const encoded = await tf.io.encodeWeights(named);
    const topology: CheckpointTopology = { step, optimizer: { className, config: optimizer.getConfig() } };
    return await handler.save({
      ...artifacts,
      modelTopology: { ...(artifacts.modelTopology as object), checkpoint: JSON.parse(JSON.stringify(topology)) as CheckpointTopology },
      weightSpecs: [...(artifacts.weightSpecs ?? []), ...encoded.specs],
      weightData: tf.io.concatenateArrayBuffers([artifacts.weightData as ArrayBuffer, encoded.data as ArrayBuffer]),
    });
  } finally {
    iterations?.tensor.dispose(); // getWeights makes the iteration count afresh; the slots are the optimizer's own
  }
}

/** A slot of the stored state, matched to a weight of the flow. */
interface StoredSlot {
  readonly name: string;
  readonly weight: string;
  readonly slot: string;
}

/**
 * Checks the checkpoint's fields and every stored optimizer weight against
 * the flow's stored weights (names, shapes, dtypes, finite values), without
 * allocating anything; returns the slots in their stored order.
 */
function checkState(topology: unknown, flowSpecs: readonly tf.io.WeightsManifestEntry[], part: WeightPart, problems: string[]): StoredSlot[] {
  const checkpoint = isObject(topology) ? topology.checkpoint : undefined;
  if (!isObject(checkpoint)) {
    problems.push('modelTopology.checkpoint: missing (a flow saved with saveFlow or saveModel has no optimizer: load it with loadFlow)');
    return [];
  }
  const { step, optimizer } = checkpoint;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) problems.push(`modelTopology.checkpoint.step: expected a whole number ≥ 0, got ${JSON.stringify(step)}`);
  if (!isObject(optimizer)) problems.push('modelTopology.checkpoint.optimizer: expected { className, config }');
  else {
    if (typeof optimizer.className !== 'string' || !optimizerClass(optimizer.className)) {
      problems.push(`modelTopology.checkpoint.optimizer.className: ${JSON.stringify(optimizer.className)} is no optimizer registered with tf.serialization (train.adam's is "FreiaAdam"; import freia-ts, or register your class)`);
    }
    if (!isObject(optimizer.config)) problems.push('modelTopology.checkpoint.optimizer.config: expected an object');
  }
  const shapes = new Map(flowSpecs.filter((spec) => typeof spec?.name === 'string').map((spec) => [spec.name, spec]));
  const slots: StoredSlot[] = [];
  const seen = new Set<string>();
  let iterations = false;
  for (const spec of part.specs) {
    const name = spec.name;
    if (seen.has(name)) problems.push(`weight "${name}": appears twice`);
    seen.add(name);
    if (name === ITERATIONS) {
      iterations = true;
      if (spec.dtype !== 'int32' || spec.shape.length !== 0) problems.push(`weight "${name}": is ${spec.dtype} ${formatShape(spec.shape)}, expected int32 []`);
      else if ((weightValues(part, name)?.[0] ?? -1) < 0) problems.push(`weight "${name}": expected a count ≥ 0`);
      continue;
    }
    const split = splitSlot(name.slice(OPTIMIZER_PREFIX.length), shapes.keys());
    if (!split) {
      problems.push(`weight "${name}": names no weight of the flow (expected ${OPTIMIZER_PREFIX}<node>/<param>/<slot>)`);
      continue;
    }
    const [weight, slot] = split;
    const target = shapes.get(weight)!;
    if (!sameShape(spec.shape, target.shape)) problems.push(`weight "${name}": has shape ${formatShape(spec.shape)}, expected ${formatShape(target.shape)} (the shape of "${weight}")`);
    else if (spec.dtype !== 'float32' || spec.quantization) problems.push(`weight "${name}": is ${spec.quantization ? 'quantized' : spec.dtype}, expected float32`);
    else {
      const values = weightValues(part, name)!; // float32, not quantized
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) problems.push(`weight "${name}": element ${bad} is ${values[bad]}, expected finite numbers`);
      else slots.push({ name, weight, slot });
    }
  }
  if (!iterations) problems.push(`weight "${ITERATIONS}": missing (the optimizer's iteration count)`);
  return slots;
}

/**
 * A flow, its optimizer (rebuilt through `tf.serialization` from its class
 * name and config, its state set) and the step count, from what
 * {@link saveCheckpoint} wrote: continue training with the same gradients in
 * the same order and the steps are those the saved run would have taken.
 *
 * The optimizer's state is checked against the flow's weights (names,
 * shapes, finite values) before anything is allocated; a fault is a
 * {@link CheckpointError} naming the weight and both shapes (a fault in the
 * flow's part a `FlowFormatError`), and nothing is left allocated. Options
 * are {@link loadFlow}'s (custom module classes, `tf.io` load options).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { loadCheckpoint, train } from 'freia-ts';
 * const { flow, optimizer, step } = await loadCheckpoint('indexeddb://run-1');
 * const x = tf.randomNormal([64, 2]);
 * tf.tidy(() => optimizer.applyGradients(tf.variableGrads(() => train.nll(flow, x), flow.trainableVariables).grads));
 * console.log(`resumed after step ${step}`);
 * ```
 *
 * @group Import/export
 */
export async function loadCheckpoint(source: string | tf.io.IOHandler, options: LoadFlowOptions = {}): Promise<Checkpoint> {
  checkOptions('loadCheckpoint', options, SOURCE_OPTIONS);
  const handler = typeof source === 'string' ? handlerFor(source, 'load', options.loadOptions) : source;
  if (handler === null || typeof handler !== 'object' || typeof handler.load !== 'function') throw new ValidationError('loadCheckpoint', 'source', 'a URL or an IOHandler with a load method', describeValue(source));
  const loaded = await handler.load();
  if (!isObject(loaded)) throw new CheckpointError(['artifacts: the handler returned no model artifacts']);
  const { rest, part } = separateWeights(loaded, OPTIMIZER_PREFIX);
  const problems: string[] = [];
  const flowSpecs = Array.isArray(rest.weightSpecs) ? rest.weightSpecs : [];
  const slots = checkState(rest.modelTopology, flowSpecs, part, problems);
  if (problems.length) throw new CheckpointError(problems);
  const { step, optimizer: described } = (rest.modelTopology as { checkpoint: CheckpointTopology }).checkpoint; // checked by checkState

  const flow = await loadFlow({ load: async () => rest }, { modules: options.modules });
  let optimizer: tf.Optimizer | undefined;
  let values: tf.NamedTensorMap = {};
  try {
    const variables = stableNames(flow);
    const byStable = new Map([...variables].map(([tfName, stable]) => [stable, tfName]));
    for (const { name, weight } of slots) if (!byStable.has(weight)) problems.push(`weight "${name}": "${weight}" is no trainable parameter of the flow`);
    if (problems.length) throw new CheckpointError(problems);
    const [cls, fromConfig] = optimizerClass(described.className)!; // checked by checkState
    try {
      optimizer = fromConfig(cls, { ...described.config }) as tf.Optimizer;
    } catch (error) {
      throw new CheckpointError([`modelTopology.checkpoint.optimizer.config: ${described.className} refused it: ${error instanceof Error ? error.message : String(error)}`]);
    }
    values = tf.io.decodeWeights(part.data, part.specs);
    const state: NamedTensor[] = [
      { name: 'iter', tensor: values[ITERATIONS] },
      ...slots.map(({ name, weight, slot }) => ({ name: `${byStable.get(weight)}/${slot}`, tensor: values[name] })),
    ];
    await optimizer.setWeights(state); // every tfjs optimizer copies what it is given
    return { flow, optimizer, step };
  } catch (error) {
    optimizer?.dispose();
    flow.dispose();
    throw error;
  } finally {
    tf.dispose(values);
  }
}
