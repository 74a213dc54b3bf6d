/**
 * `freia-ts/node`: saving and loading flows as files, for Node only (the
 * library proper runs in browsers and imports nothing from `node:`).
 *
 * The files are tfjs-node's `file://` layout: a directory with `model.json`
 * (the topology and the weights manifest) and `weights.bin`, so tfjs-node's
 * own handler reads what we write and the other way round.
 *
 * Importing this entry registers a `file://` router with `tf.io` when none
 * is registered yet, so `saveFlow(flow, 'file://dir')` works without
 * tfjs-node. If tfjs-node registers its own router later (`ready()` imports
 * it when installed), ours steps aside, so `file://` never resolves to two
 * handlers (which `model.save` and `saveFlow` refuse).
 *
 * @packageDocumentation
 * @module freia-ts/node
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { Flow, AnyFlow } from '../runtime/flow.js';
import type { GraphDef } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { saveFlow, loadFlow, type LoadFlowOptions } from '../io/persistence.js';
import type { ExpectedFlow, FlowExpectationOf } from '../io/expectation.js';
import { savedFlowGraph } from '../io/saved-format.js';

const SCHEME = 'file://';
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** `model.json` itself, or the `model.json` inside a directory. */
async function modelJsonPath(file: string): Promise<string> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'ENOENT' ? new FreiaError(`${file} does not exist`) : error;
  });
  return info.isDirectory() ? path.join(file, MODEL_JSON) : file;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FreiaError(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * A `tf.io.IOHandler` for a directory, as tfjs-node's `tf.io.fileSystem`:
 * `save` creates the directory (and its parents) and writes `model.json` and
 * `weights.bin`; `load` reads a `model.json` (or the directory holding one)
 * and the weight files its manifest names. A `freia-ts/1` JSON file (what
 * `saveFlowFile` wrote before) loads too.
 *
 * @example
 * ```ts
 * import { inn, saveFlow, loadFlow } from 'freia-ts';
 * import { fileSystem } from 'freia-ts/node';
 * const flow = inn.input([3]).actNorm().build();
 * await saveFlow(flow, fileSystem('models/norm'));          // models/norm/model.json + weights.bin
 * const again = await loadFlow(fileSystem('models/norm/model.json'));
 * ```
 *
 * @group Import/export
 */
export function fileSystem(directory: string | URL): tf.io.IOHandler {
  const target = path.resolve(typeof directory === 'string' ? directory : fileURLToPath(directory));
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new FreiaError('fileSystem: a binary model topology cannot be saved as model.json');
      const existing = await stat(target).catch(() => undefined);
      if (existing?.isFile()) throw new FreiaError(`${target} is a file; saving needs a directory (it holds model.json and weights.bin)`);
      await mkdir(target, { recursive: true });
      // the same fields, in the same order, as tfjs-node's NodeFileSystem writes
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature != null) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata != null) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      await writeFile(path.join(target, MODEL_JSON), JSON.stringify(modelJson), 'utf8');
      await writeFile(path.join(target, WEIGHTS_BIN), new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? [])));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const file = await modelJsonPath(target);
      const json = await readJson(file);
      if (json === null || typeof json !== 'object') throw new FreiaError(`${file}: expected a JSON object`);
      const modelJson = json as Partial<tf.io.ModelJSON> & { format?: unknown }; // fields are checked where they are used
      // A freia-ts/1 document is handed over whole; loadFlow reads it.
      if (modelJson.format === 'freia-ts/1') return { modelTopology: modelJson, format: 'freia-ts/1' };
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      };
      if (Array.isArray(modelJson.weightsManifest)) {
        const buffers: ArrayBuffer[] = [];
        const specs: tf.io.WeightsManifestEntry[] = [];
        for (const group of modelJson.weightsManifest) {
          for (const name of group.paths) {
            const bytes = await readFile(path.join(path.dirname(file), name)).catch((error: NodeJS.ErrnoException) => {
              throw error.code === 'ENOENT' ? new FreiaError(`${file}: weight file ${name} does not exist`) : error;
            });
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer); // a Buffer's own bytes, copied out of Node's pool
          }
          specs.push(...group.weights);
        }
        artifacts.weightSpecs = specs;
        artifacts.weightData = tf.io.CompositeArrayBuffer.join(buffers);
      }
      if (modelJson.trainingConfig != null) artifacts.trainingConfig = modelJson.trainingConfig;
      if (modelJson.signature != null) artifacts.signature = modelJson.signature;
      if (modelJson.userDefinedMetadata != null) artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;
      return artifacts;
    },
  };
}

/**
 * Saves a flow to a directory (`model.json` + `weights.bin`), the layout of
 * `saveFlow(flow, 'file://dir')` and of tfjs-node. The directory and its
 * parents are created; a path may be a string or a `file:` URL.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * import { saveFlowFile, loadFlowFile } from 'freia-ts/node';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * await saveFlowFile(flow, 'models/moons');
 * const again = await loadFlowFile('models/moons');
 * ```
 *
 * @group Import/export
 */
export async function saveFlowFile(flow: AnyFlow, directory: string | URL): Promise<tf.io.SaveResult> {
  return saveFlow(flow, fileSystem(directory));
}

/**
 * Loads a flow saved with {@link saveFlowFile} or `saveFlow(flow,
 * 'file://dir')`: the directory, or its `model.json`. A `freia-ts/1` JSON
 * file of earlier versions loads too. Custom modules are passed as with
 * `loadFlow`: `{ modules: { MyModule } }`.
 *
 * @example
 * ```ts
 * import { loadFlowFile } from 'freia-ts/node';
 * const flow = await loadFlowFile('models/moons');   // or 'models/moons/model.json', or an old flow.json
 * const typed = await loadFlowFile('models/moons', { expect: { inputs: [[2]], outputs: [[2]] } });   // Flow<[[2]], [[2]], []>
 * ```
 *
 * @group Import/export
 */
export async function loadFlowFile<const E extends FlowExpectationOf>(file: string | URL, options: LoadFlowOptions & { readonly expect: E }): Promise<ExpectedFlow<E>>;
export async function loadFlowFile(file: string | URL, options?: LoadFlowOptions): Promise<Flow>;
export async function loadFlowFile(file: string | URL, options?: LoadFlowOptions & { readonly expect?: FlowExpectationOf }): Promise<Flow> {
  // `loadFlow` checks `expect` and returns the flow it promises; its two overloads cannot be forwarded as one.
  return loadFlow(fileSystem(file), options as LoadFlowOptions);
}

/**
 * The definition data of a saved flow, read without building it (no tensors,
 * no weight files): from a directory, its `model.json`, or a `freia-ts/1`
 * file. For tools that draw or inspect saved models.
 *
 * @example
 * ```ts
 * import { toMermaid } from 'freia-ts';
 * import { loadFlowGraph } from 'freia-ts/node';
 * console.log(toMermaid(await loadFlowGraph('models/moons')));
 * ```
 *
 * @group Import/export
 */
export async function loadFlowGraph(file: string | URL): Promise<GraphDef> {
  return savedFlowGraph(await readJson(await modelJsonPath(path.resolve(typeof file === 'string' ? file : fileURLToPath(file)))));
}

/**
 * A `file://` router that steps aside while another one (tfjs-node's) answers
 * the same URL: asking the registry runs every router, ours included, so a
 * flag keeps that inner call from answering for us.
 */
function router(kind: 'save' | 'load'): (url: string | string[]) => tf.io.IOHandler | null {
  let asking = false;
  return (url) => {
    if (asking || typeof url !== 'string' || !url.startsWith(SCHEME)) return null;
    asking = true;
    try {
      const others = kind === 'save' ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url);
      if (others.length > 0) return null;
    } finally {
      asking = false;
    }
    return fileSystem(url.slice(SCHEME.length));
  };
}

/** tf.io's router type leaves out `null`, which its registry skips and its own routers return for URLs they do not handle. */
type IORouter = Parameters<typeof tf.io.registerSaveRouter>[0];
if (tf.io.getSaveHandlers(`${SCHEME}.`).length === 0) tf.io.registerSaveRouter(router('save') as IORouter);
if (tf.io.getLoadHandlers(`${SCHEME}.`).length === 0) tf.io.registerLoadRouter(router('load') as IORouter);
