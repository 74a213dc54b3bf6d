/**
 * Saving and loading a flow together with its base distribution
 * (`dist.pullBack(flow, base)` or `dist.pushForward(flow, base)`): the flow
 * as `saveFlow` writes it, plus the base's description in `modelTopology`
 * (`distribution: { direction, base }`) and the base's parameters as weights
 * named `~base/<name>` after the flow's (binary, through `tf.io`).
 * `loadFlow` reads such a model too, and gives its flow.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';
import { FreiaError, ValidationError, formatShape } from '../core/errors.js';
import { checkOptions, describeValue } from '../core/validation.js';
import { TransformedDistribution, baseFromDescription } from '../distributions/index.js';
import { SOURCE_OPTIONS, flowArtifacts, handlerFor, loadFlow, memoryHandler, type FlowDestination, type LoadFlowOptions } from './persistence.js';
import { BASE_PREFIX, FlowFormatError, separateBase } from './saved-format.js';

/**
 * Where {@link loadModel} reads from: a `tf.io` URL or an `IOHandler` with `load`.
 *
 * @group Import/export
 */
export type ModelSource = string | tf.io.IOHandler;

/**
 * Saves a flow with its base distribution, parameters included, through
 * `tf.io` (as {@link saveFlow}: a URL or an `IOHandler`).
 *
 * @example
 * ```ts
 * import { dist, inn, subnets, saveModel, loadModel, memoryHandler } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const store = memoryHandler();
 * await saveModel(dist.pullBack(flow, dist.gaussianMixture([2], 4)), store);
 * const model = await loadModel(store);   // the flow, the mixture and its weights
 * ```
 *
 * @group Import/export
 */
export async function saveModel<X extends readonly Shape[], C extends readonly Shape[]>(model: TransformedDistribution<X, C>, destination: FlowDestination): Promise<tf.io.SaveResult> {
  if (!(model instanceof TransformedDistribution)) throw new ValidationError('saveModel', 'model', 'a flow with its base (dist.pullBack or dist.pushForward); save a lone flow with saveFlow', describeValue(model));
  const handler = typeof destination === 'string' ? handlerFor(destination, 'save') : destination;
  if (typeof handler?.save !== 'function') throw new FreiaError('saveModel: the IOHandler has no save method');
  const artifacts = await flowArtifacts(model.flow);
  const named: tf.NamedTensorMap = {};
  for (const [name, variable] of model.base.variables) named[BASE_PREFIX + name] = variable;
  const base = await tf.io.encodeWeights(named);
  return handler.save({
    ...artifacts,
    modelTopology: { ...(artifacts.modelTopology as object), distribution: { direction: model.direction, base: model.base.describe() } },
    weightSpecs: [...(artifacts.weightSpecs ?? []), ...base.specs],
    weightData: tf.io.concatenateArrayBuffers([artifacts.weightData as ArrayBuffer, base.data as ArrayBuffer]),
  });
}

/**
 * Loads what {@link saveModel} wrote: the flow, its base and their weights,
 * as a transformed distribution. Every problem is named; a failure leaves
 * nothing allocated.
 *
 * @example
 * ```ts
 * import { inn, dist, subnets, saveModel, loadModel, memoryHandler } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const store = memoryHandler();
 * await saveModel(dist.pullBack(flow, dist.diagonalNormal([2])), store);
 * const model = await loadModel(store); // the flow and its trained base
 * ```
 *
 * @group Import/export
 */
export async function loadModel(source: ModelSource, options: LoadFlowOptions = {}): Promise<TransformedDistribution> {
  checkOptions('loadModel', options, SOURCE_OPTIONS);
  const handler = typeof source === 'string' ? handlerFor(source, 'load', options.loadOptions) : source;
  if (handler === null || typeof handler !== 'object' || typeof handler.load !== 'function') throw new ValidationError('loadModel', 'source', 'a URL or an IOHandler with a load method', describeValue(source));
  const { flow: flowPart, base: basePart } = separateBase(await handler.load());
  if (!basePart) throw new FlowFormatError(['modelTopology.distribution: missing (a flow saved with saveFlow: load it with loadFlow)']);
  const direction = basePart.direction;
  if (direction !== 'pull' && direction !== 'push') throw new FlowFormatError([`modelTopology.distribution.direction: is ${describeValue(direction)}, expected "pull" or "push"`]);
  const store = memoryHandler();
  await store.save(flowPart);
  const flow = await loadFlow(store, options);
  let base;
  let decoded: tf.NamedTensorMap = {};
  try {
    base = baseFromDescription(basePart.description);
    // The base must fit the flow before its weights are looked at.
    const model = new TransformedDistribution(flow, base, direction);
    decoded = tf.io.decodeWeights(basePart.data, basePart.specs);
    const problems: string[] = [];
    for (const [name, variable] of base.variables) {
      const value = decoded[BASE_PREFIX + name];
      if (!value) problems.push(`weights: missing the base's "${BASE_PREFIX}${name}"`);
      else if (formatShape(value.shape) !== formatShape(variable.shape) || value.dtype !== variable.dtype) problems.push(`weights: "${BASE_PREFIX}${name}" is ${value.dtype} ${formatShape(value.shape)}, the base's is ${variable.dtype} ${formatShape(variable.shape)}`);
      else if (value.dtype === 'float32' && value.dataSync().some((v) => !Number.isFinite(v))) problems.push(`weights: "${BASE_PREFIX}${name}" holds non-finite numbers`);
    }
    for (const name of Object.keys(decoded)) if (!base.variables.has(name.slice(BASE_PREFIX.length))) problems.push(`weights: "${name}" belongs to no parameter of the base`);
    if (problems.length) throw new FlowFormatError(problems);
    for (const [name, variable] of base.variables) variable.assign(decoded[BASE_PREFIX + name]);
    return model;
  } catch (error) {
    flow.dispose();
    base?.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(decoded));
  }
}
