/**
 * Matrix products and convolutions on ONNX Runtime's native CPU kernels, for
 * the WebAssembly backend, when the optional peer `onnxruntime-node` is
 * installed (Node only).
 *
 * The wasm backend runs products and convolutions through XNNPACK on one
 * thread (about 16 GMAC/s here), repacks a weight matrix whenever the tensor
 * holding it is new (every Adam step), and needs a copy to transpose. ONNX
 * Runtime's MLAS kernels run the same products 4–6× faster (`Gemm` takes
 * transposed operands as they are) on all cores. Each call builds (once per
 * shape) a one-node ONNX model and runs it synchronously through the
 * package's native binding, reading the operands straight from the wasm heap
 * and writing the result into a new wasm tensor: no copies.
 *
 * The synchronous binding (`onnxruntime-node/dist/binding.js`) is not the
 * package's public API (whose `run` is asynchronous), so the peer is pinned
 * to the version checked here; a version whose binding lacks what we use is
 * reported and skipped. `FREIA_NATIVE=0` turns the native kernels off.
 * ONNX Runtime's telemetry is switched off (`ORT_DISABLE_TELEMETRY=1`) unless
 * the user set that variable.
 */
import * as tf from '@tensorflow/tfjs';
import { onnxModel, type OnnxNode, type OnnxValue } from './onnx-model.js';
import type { HostMemory } from './host-memory.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The npm package, and the version whose binding this file was written against. */
export const NATIVE_PACKAGE = 'onnxruntime-node';
export const NATIVE_VERSION = '1.30.0';

/** The part of onnxruntime-node's native session used here. */
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, object>, fetches: Record<string, object>, options: object): Record<string, object>;
}

/** The part of onnxruntime-node's binding module used here. */
interface BindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

/** onnxruntime-common's Tensor constructor (float32 over an existing array: no copy). */
type TensorConstructor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => object;

interface Native {
  readonly Session: new () => NativeSession;
  readonly Tensor: TensorConstructor;
  readonly sessions: Map<string, NativeSession>;
}

let native: Native | undefined;
let attempt: Promise<string | undefined> | undefined;
let disabled = false;

/** Node's environment variables, without Node's types (the library also runs in browsers, where there are none). */
function environment(): Record<string, string | undefined> | undefined {
  // Cast: `globalThis` has no `process` in a browser; in Node its env is a string map.
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
}

/** A module's CommonJS exports under dynamic import: the named exports, or `default`. */
function exportsOf<T>(module: object): T {
  // Cast: Node exposes a CommonJS module's exports as `default` (and, when it can tell, as named exports).
  const m = module as { default?: unknown };
  return ('initOrt' in m || 'Tensor' in m ? m : (m.default ?? m)) as T;
}

/**
 * Loads onnxruntime-node once. Resolves to undefined when the native kernels
 * are ready, or to the reason they are not used (not installed, switched
 * off, a binding that lacks what we use).
 */
export function loadNative(): Promise<string | undefined> {
  attempt ??= (async () => {
    const env = environment();
    if (env?.FREIA_NATIVE === '0') return 'FREIA_NATIVE=0';
    // ONNX Runtime's Linux build embeds Microsoft's telemetry client, which writes `.ses` and
    // `mat-debug-<pid>.log` into the temp folder and queues usage events. A library must not switch
    // that on behind its user's back: off unless the user set the variable themselves.
    if (env && env.ORT_DISABLE_TELEMETRY === undefined) env.ORT_DISABLE_TELEMETRY = '1';
    try {
      // Variable specifiers keep TypeScript and bundlers from resolving an optional peer.
      const bindingPath = `${NATIVE_PACKAGE}/dist/binding.js`;
      const { binding, initOrt } = exportsOf<BindingModule>(await import(bindingPath));
      const { Tensor } = exportsOf<{ Tensor: TensorConstructor }>(await import(NATIVE_PACKAGE));
      if (typeof binding?.InferenceSession !== 'function' || typeof initOrt !== 'function' || typeof Tensor !== 'function') {
        return `${NATIVE_PACKAGE}'s binding is not the one of version ${NATIVE_VERSION}`;
      }
      initOrt();
      native = { Session: binding.InferenceSession, Tensor, sessions: new Map() };
      return undefined;
    } catch (error) {
      return `${NATIVE_PACKAGE} could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    }
  })();
  return attempt;
}

/** Whether the native kernels are loaded and switched on. */
export function nativeActive(): boolean {
  return native !== undefined && !disabled;
}

/** Runs `fn` with the native kernels switched off (internal: tests and measurements compare both paths). */
export function withoutNative<T>(fn: () => T): T {
  const before = disabled;
  disabled = true;
  try {
    return fn();
  } finally {
    disabled = before;
  }
}

/** The session of a one-graph model, built once per key (operation and shapes). */
function session(key: string, nodes: readonly OnnxNode[], inputs: readonly OnnxValue[], outputs: readonly OnnxValue[]): NativeSession {
  const { sessions, Session } = native!;
  let s = sessions.get(key);
  if (!s) {
    const bytes = onnxModel(nodes, inputs, outputs);
    s = new Session();
    // Spinning worker threads would take the cores from the JavaScript thread between calls.
    s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      executionMode: 'sequential',
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
    sessions.set(key, s);
  }
  return s;
}

/** Runs a model on views of the wasm heap: `inputs` read in place, the result written into `out`. */
function run(s: NativeSession, memory: HostMemory, inputs: Record<string, [tf.TensorInfo, readonly number[]]>, out: tf.TensorInfo, outDims: readonly number[]): void {
  const { Tensor } = native!;
  const feeds: Record<string, object> = {};
  // Views after the output's allocation: an allocation may move the heap.
  for (const [name, [info, dims]] of Object.entries(inputs)) feeds[name] = new Tensor('float32', memory.view(info) as Float32Array, dims);
  s.run(feeds, { y: new Tensor('float32', memory.view(out) as Float32Array, outDims) }, {});
}

/**
 * Products stay on XNNPACK below this many multiply-adds (for tiny ones the
 * native call's bookkeeping costs more than it saves) or with an inner
 * dimension below {@link MIN_PRODUCT_DEPTH} (MLAS is slower there: the moons
 * INN's `[10000, 1] · [1, 512]` took 12 ms against XNNPACK's 5 ms).
 */
const MIN_PRODUCT = 1 << 20;
const MIN_PRODUCT_DEPTH = 16;

/**
 * Convolutions whose filter reads fewer than this many values per output
 * (`kh · kw · Ci`) stay on XNNPACK: MLAS's im2col product is slower there
 * (measured: 1 or 2 input channels with 3×3, or 6 with 1×1).
 */
const MIN_CONV_DEPTH = 32;

/**
 * Convolutions with larger kernels than 5×5 stay on XNNPACK: the filter
 * gradient of a conv subnet is computed as a convolution whose kernel is the
 * whole image (kernels.ts), and MLAS's patches for that are slower (the conv
 * training step took 806 ms with them, 754 without).
 */
const MAX_CONV_TAPS = 25;

const float32 = (...ts: (tf.TensorInfo | undefined)[]) => ts.every((t) => t === undefined || t.dtype === 'float32');

/** `BatchMatMul` and `_FusedMatMul` of one matrix pair, with bias and ReLU when fused. */
export function nativeProduct({ inputs, attrs }: KernelArgs, memory: HostMemory): tf.TensorInfo | null {
  if (!nativeActive()) return null;
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  const bias = inputs.bias as tf.TensorInfo | undefined;
  // Cast: the product's attributes (fused ones only for _FusedMatMul).
  const { transposeA, transposeB, activation = 'linear' } = attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
  const batch = (s: readonly number[]) => s.slice(0, -2).reduce((x, y) => x * y, 1);
  if (!float32(a, b, bias) || a.shape.length < 2 || b.shape.length < 2 || batch(a.shape) !== 1 || batch(b.shape) !== 1) return null;
  if (inputs.preluActivationWeights || (activation !== 'linear' && activation !== 'relu') || (bias && bias.shape.length !== 1)) return null;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k || (bias && bias.shape[0] !== n && bias.shape[0] !== 1) || m * k * n < MIN_PRODUCT || k < MIN_PRODUCT_DEPTH) return null;
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  const key = `gemm ${ar} ${ac} ${br} ${bc} ${+transposeA}${+transposeB} ${bias ? bias.shape[0] : '-'} ${activation}`;
  const gemmOut = activation === 'relu' ? 'g' : 'y';
  const nodes: OnnxNode[] = [{ op: 'Gemm', inputs: bias ? ['a', 'b', 'c'] : ['a', 'b'], outputs: [gemmOut], attributes: { transA: +transposeA, transB: +transposeB } }];
  if (activation === 'relu') nodes.push({ op: 'Relu', inputs: ['g'], outputs: ['y'] });
  const values: OnnxValue[] = [{ name: 'a', shape: [ar, ac] }, { name: 'b', shape: [br, bc] }, ...(bias ? [{ name: 'c', shape: bias.shape }] : [])];
  const s = session(key, nodes, values, [{ name: 'y', shape: [m, n] }]);
  const out = memory.output(outShape);
  run(s, memory, { a: [a, [ar, ac]], b: [b, [br, bc]], ...(bias ? { c: [bias, bias.shape] as [tf.TensorInfo, number[]] } : {}) }, out, [m, n]);
  return out;
}

/** `Conv2D` and `FusedConv2D` (NHWC, bias and ReLU when fused). */
export function nativeConvolution({ inputs, attrs }: KernelArgs, memory: HostMemory): tf.TensorInfo | null {
  if (!nativeActive()) return null;
  const x = inputs.x as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const bias = inputs.bias as tf.TensorInfo | undefined;
  // Cast: Conv2D's and FusedConv2D's attributes.
  const { strides, pad, dilations = 1, dataFormat = 'NHWC', dimRoundingMode, activation = 'linear' } = attrs as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dilations?: number | [number, number];
    dataFormat?: string;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
  };
  if (!float32(x, filter, bias) || x.shape.length !== 4 || dataFormat !== 'NHWC' || inputs.preluActivationWeights) return null;
  if ((activation !== 'linear' && activation !== 'relu') || (bias && (bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3]))) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw, ci, co] = filter.shape;
  // ONNX's output size for these pads; tfjs's own sizing of numeric pads can differ (then XNNPACK runs it).
  const onnxSize = (size: number, before: number, after: number, k: number, dilation: number, stride: number) => Math.floor((size + before + after - dilation * (k - 1) - 1) / stride) + 1;
  if ([top, bottom, left, right].some((p) => p < 0)) return null;
  if (onnxSize(x.shape[1], top, bottom, kh, info.dilationHeight, info.strideHeight) !== info.outHeight || onnxSize(x.shape[2], left, right, kw, info.dilationWidth, info.strideWidth) !== info.outWidth) return null;
  if (kh * kw * ci < MIN_CONV_DEPTH || kh * kw > MAX_CONV_TAPS) return null;
  const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  const key = `conv ${x.shape.join(',')} ${filter.shape.join(',')} ${info.strideHeight},${info.strideWidth} ${info.dilationHeight},${info.dilationWidth} ${top},${left},${bottom},${right} ${bias ? 'b' : '-'} ${activation}`;
  const convOut = activation === 'relu' ? 'r' : 'z';
  const nodes: OnnxNode[] = [
    { op: 'Transpose', inputs: ['x'], outputs: ['xc'], attributes: { perm: [0, 3, 1, 2] } },
    { op: 'Transpose', inputs: ['f'], outputs: ['fc'], attributes: { perm: [3, 2, 0, 1] } },
    {
      op: 'Conv',
      inputs: bias ? ['xc', 'fc', 'b'] : ['xc', 'fc'],
      outputs: [convOut],
      attributes: { kernel_shape: [kh, kw], pads: [top, left, bottom, right], strides: [info.strideHeight, info.strideWidth], dilations: [info.dilationHeight, info.dilationWidth] },
    },
    ...(activation === 'relu' ? [{ op: 'Relu', inputs: ['r'], outputs: ['z'] }] : []),
    { op: 'Transpose', inputs: ['z'], outputs: ['y'], attributes: { perm: [0, 2, 3, 1] } },
  ];
  const values: OnnxValue[] = [{ name: 'x', shape: x.shape }, { name: 'f', shape: [kh, kw, ci, co] }, ...(bias ? [{ name: 'b', shape: bias.shape }] : [])];
  const s = session(key, nodes, values, [{ name: 'y', shape: outShape }]);
  const out = memory.output(outShape);
  run(s, memory, { x: [x, x.shape], f: [filter, filter.shape], ...(bias ? { b: [bias, bias.shape] as [tf.TensorInfo, number[]] } : {}) }, out, outShape);
  return out;
}
