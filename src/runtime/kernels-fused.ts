/**
 * Kernels of our own that do in one call what would take many tfjs kernels,
 * written in JavaScript over host memory (src/runtime/host-memory.ts), so
 * registered for the wasm and cpu backends only; elsewhere their callers run
 * the plain tfjs operations. Registered by `ready()` / `useBackend`, never at
 * import.
 *
 * **One Adam step for every variable** ({@link ADAM_KERNEL}): tfjs's Adam runs
 * about ten elementwise kernels per variable, each a pass over memory; this
 * kernel updates `w, m, v` of all variables in one call and one pass each
 * (on wasm four parameters at a time, in our own SIMD code: simd.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { hasHostMemory, hostMemory, type HostArray, type HostMemory } from './host-memory.js';
import { ALL_IN_ONE_GRAD_KERNEL, ALL_IN_ONE_KERNEL, allInOneLayout, type AllInOneAttrs } from '../modules/fused-kernels.js';
import { simdLoops } from './simd.js';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Whether the wasm kernels use our SIMD loops (internal: tests compare them with the JavaScript loops). */
let fusionSimd = true;

/** Our SIMD loops on the wasm backend's memory, when they are on and available. */
function loopsFor(memory: HostMemory) {
  return fusionSimd && memory.wasm ? simdLoops(memory.wasm.memory) : null;
}

/** Runs `fn` with the SIMD loops on or off (internal: tests and measurements). */
export function withSimd<T>(on: boolean, fn: () => T): T {
  const before = fusionSimd;
  fusionSimd = on;
  try {
    return fn();
  } finally {
    fusionSimd = before;
  }
}

/**
 * The fused Adam step: inputs `w0, g0, m0, v0, w1, …` (float32), attributes
 * `count`, `learningRate`, `beta1`, `beta2`, `epsilon` and the bias
 * corrections `correction1 = 1 − β1^t`, `correction2 = 1 − β2^t`; outputs
 * `w0', m0', v0', w1', …` (new tensors: the inputs are never written).
 * Per element, as tfjs's AdamOptimizer:
 *
 *     m' = β1 m + (1 − β1) g,   v' = β2 v + (1 − β2) g²
 *     w' = w − lr · (m' / c1) / (√(v' / c2) + ε)
 */
export const ADAM_KERNEL = 'FreiaAdamStep';

/** The attributes of {@link ADAM_KERNEL}. */
export interface AdamStepAttrs {
  readonly count: number;
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly correction1: number;
  readonly correction2: number;
}

function adamStep(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    // Cast: the attributes are the AdamStepAttrs the optimizer passes.
    const { count, learningRate, beta1, beta2, epsilon, correction1, correction2 } = attrs as unknown as AdamStepAttrs;
    const memory = hostMemory(backendName, backend);
    const outputs: tf.TensorInfo[] = [];
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    const step = learningRate / correction1;
    for (let i = 0; i < count; i++) {
      const [w, g, m, v] = ['w', 'g', 'm', 'v'].map((k) => inputs[`${k}${i}`] as tf.TensorInfo);
      const made = [memory.output(w.shape), memory.output(w.shape), memory.output(w.shape)];
      outputs.push(...made);
      const size = w.shape.reduce((a, b) => a * b, 1);
      // On wasm, all but the last size mod 4 parameters go through the SIMD loop (four at a time).
      const loops = loopsFor(memory);
      let start = 0;
      if (loops && memory.wasm) {
        start = size - (size % 4);
        const at = memory.wasm.address;
        loops.adam(at(w), at(g), at(m), at(v), at(made[0]), at(made[1]), at(made[2]), start, beta1, beta2, a1, a2, step, correction2, epsilon);
      }
      // Views after every allocation of this variable: an allocation may move the heap.
      const [wv, gv, mv, vv, wOut, mOut, vOut] = [w, g, m, v, ...made].map((t) => memory.view(t));
      for (let j = start; j < size; j++) {
        const gj = gv[j];
        const mj = beta1 * mv[j] + a1 * gj;
        const vj = beta2 * vv[j] + a2 * gj * gj;
        mOut[j] = mj;
        vOut[j] = vj;
        wOut[j] = wv[j] - (step * mj) / (Math.sqrt(vj / correction2) + epsilon);
      }
    }
    return outputs;
  };
}

/** Registers our fused kernels for `backendName` when it has host memory (wasm, cpu). Idempotent. */
export function registerFusedKernels(backendName: string): void {
  if (!hasHostMemory(backendName)) return;
  if (!tf.getKernel(ADAM_KERNEL, backendName)) tf.registerKernel({ kernelName: ADAM_KERNEL, backendName, kernelFunc: adamStep(backendName) });
  if (!tf.getKernel(ALL_IN_ONE_KERNEL, backendName)) tf.registerKernel({ kernelName: ALL_IN_ONE_KERNEL, backendName, kernelFunc: allInOneForward(backendName) });
  if (!tf.getKernel(ALL_IN_ONE_GRAD_KERNEL, backendName)) tf.registerKernel({ kernelName: ALL_IN_ONE_GRAD_KERNEL, backendName, kernelFunc: allInOneGradient(backendName) });
  registerAllInOneGradient();
}

// ---- AllInOneBlock (src/modules/fused-kernels.ts has the contract) ----

/** Copies `width` columns between row-major arrays: `to[r, toAt + j] = from[r, fromAt + j]`. */
function copyColumns(from: HostArray, fromWidth: number, fromAt: number, to: HostArray, toWidth: number, toAt: number, width: number, rows: number): void {
  for (let r = 0, src = fromAt, dst = toAt; r < rows; r++, src += fromWidth, dst += toWidth) {
    for (let j = 0; j < width; j++) to[dst + j] = from[src + j];
  }
}

/** The same data under another shape (a TensorInfo is only a handle: no copy). */
const reshaped = (info: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({ dataId: info.dataId, shape, dtype: info.dtype });

/** AllInOneBlock's global scale per channel from its parameter `g`, and `d scale / d g`. */
function globalScale(g: HostArray, type: AllInOneAttrs['scaleType']): { scale: Float64Array; slope: Float64Array } {
  const scale = new Float64Array(g.length);
  const slope = new Float64Array(g.length);
  for (let c = 0; c < g.length; c++) {
    const v = g[c];
    if (type === 'SOFTPLUS') {
      // 0.1 · Softplus(β = 0.5): 0.1 · 2 log(1 + exp(g / 2)), linear once g / 2 > 20 (as torch).
      const half = 0.5 * v;
      scale[c] = half > 20 ? 0.1 * v : 0.2 * Math.log1p(Math.exp(half));
      slope[c] = half > 20 ? 0.1 : 0.1 / (1 + Math.exp(-half));
    } else if (type === 'SIGMOID') {
      const sig = 1 / (1 + Math.exp(-(v - 2)));
      scale[c] = 10 * sig;
      slope[c] = 10 * sig * (1 - sig);
    } else {
      scale[c] = Math.exp(v);
      slope[c] = scale[c];
    }
  }
  return { scale, slope };
}

/** Rotations wider than this go through the product kernel; narrower ones are a JavaScript loop per row. */
const SMALL_ROTATION = 16;

/** Calls another kernel of the same backend (its registered function: ours where we replaced it). */
function callKernel(kernelName: string, backendName: string, backend: object, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): tf.TensorInfo {
  // Cast: attributes travel as a NamedAttrMap; these are plain numbers, booleans and strings.
  return tf.getKernel(kernelName, backendName)!.kernelFunc({ inputs, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** `a · b` (2-D, optionally transposed) by the backend's product kernel; the result as `[rows, cols]`. */
function product(backendName: string, backend: object, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const out = callKernel('BatchMatMul', backendName, backend, { a: reshaped(a, [1, ...a.shape]), b: reshaped(b, [1, ...b.shape]) }, { transposeA, transposeB });
  return reshaped(out, out.shape.slice(1));
}

/**
 * A layer's weight gradient `aᵀ · b` with `a` or `b` at most this many
 * columns (the moons INN's first and last layers) is not handed to the
 * product kernel: XNNPACK would build an operator and pack its second
 * operand (new every step) on every call, 0.65 ms for `[100, 1]ᵀ · [100, 512]`.
 * On wasm it is our SIMD loop (simd.ts), elsewhere a JavaScript loop.
 */
const NARROW = 8;

/** `aᵀ · b` for `a [rows, m]`, `b [rows, n]`: the weight gradient of a layer, `[m, n]`. */
function transposedProduct(backendName: string, backend: object, memory: HostMemory, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const [rows, m] = a.shape;
  const n = b.shape[1];
  if (m > NARROW && n > NARROW) return product(backendName, backend, a, b, true, false);
  const loops = loopsFor(memory);
  const out = memory.output([m, n]);
  if (loops && memory.wasm && m <= NARROW && n % 4 === 0) {
    memory.view(out).fill(0);
    const at = memory.wasm.address;
    loops.rowsOuter(at(a), m, at(b), n, rows, at(out));
    return out;
  }
  if (loops && memory.wasm && n <= NARROW && m % 4 === 0) {
    // bᵀ · a with the narrow factor first, then transposed into place (m · n values).
    const swapped = memory.output([n, m]);
    memory.view(swapped).fill(0);
    const at = memory.wasm.address;
    loops.rowsOuter(at(b), n, at(a), m, rows, at(swapped));
    const [sv, ov] = [swapped, out].map((t) => memory.view(t));
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ov[i * n + j] = sv[j * m + i];
    (backend as tf.KernelBackend).disposeData(swapped.dataId);
    return out;
  }
  const [av, bv, ov] = [a, b, out].map((t) => memory.view(t));
  const acc = new Float64Array(m * n);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < m; i++) {
      const ai = av[r * m + i];
      for (let j = 0, q = i * n, p = r * n; j < n; j++) acc[q + j] += ai * bv[p + j];
    }
  }
  ov.set(acc);
  return out;
}

/**
 * The gradient through a ReLU, in place: `d[r, j] = 0` where the activation
 * `h[r, j]` was not positive; `bias[j] = Σ_r d[r, j]`. A small function of
 * its own, so V8 optimises it on its own, and without a branch (ReLU's zeros
 * are unpredictable: a mispredicted branch costs more than the product).
 */
function maskRelu(d: HostArray, h: HostArray, bias: HostArray, rows: number, width: number): void {
  bias.fill(0);
  if (rows === 0) return;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, q = r * width; j < width; j++, q++) {
      const v = d[q] * +(h[q] > 0);
      d[q] = v;
      bias[j] += v;
    }
  }
}

function allInOneForward(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    // Cast: the module passes AllInOneAttrs, and its inputs as a list (see allInOneLayout).
    const a = attrs as unknown as AllInOneAttrs;
    const list = inputs as unknown as tf.TensorInfo[];
    const at = allInOneLayout(a);
    const { len1, len2, condChannels: cc, clamp, spatial, layers, soft } = a;
    const x = list[at.x];
    const [rows, channels] = x.shape;
    const batch = rows / spatial;
    const memory = hostMemory(backendName, backend);
    const kernelBackend = backend as tf.KernelBackend;

    // The subnet's input u = [x1, c], then its layers (the product kernels: native, XNNPACK or cpu).
    const width = len1 + cc;
    const u = memory.output([rows, width]);
    copyColumns(memory.view(x), channels, 0, memory.view(u), width, 0, len1, rows);
    if (cc > 0) copyColumns(memory.view(list[at.cond]), cc, 0, memory.view(u), width, len1, cc, rows);
    const hidden: tf.TensorInfo[] = [];
    let h = u;
    for (let i = 0; i < layers; i++) {
      const [weight, bias] = [list[at.weights + 2 * i], list[at.weights + 2 * i + 1]];
      const out = callKernel('_FusedMatMul', backendName, backend, { a: reshaped(h, [1, ...h.shape]), b: reshaped(weight, [1, ...weight.shape]), bias }, {
        transposeA: false,
        transposeB: false,
        activation: i < layers - 1 ? 'relu' : 'linear',
        leakyreluAlpha: 0,
      });
      h = reshaped(out, [rows, weight.shape[1]]);
      if (i < layers - 1) hidden.push(h);
    }
    const raw = h;

    // The coupling, the global affine map and the log-det, row by row.
    const viaProduct = soft && channels > SMALL_ROTATION;
    // With a wide rotation, z goes to the product kernel; otherwise y is written directly.
    const z = viaProduct ? memory.output([rows, channels]) : null;
    const y = viaProduct ? null : memory.output([rows, channels]);
    const logDet = memory.output([batch]);
    // tanh and exp of the coupling, kept for the gradient (they are most of the tail's time).
    const tanhs = memory.output([rows, len2]);
    const exps = memory.output([rows, len2]);
    // On wasm our SIMD loop computes tanh, exp, the coupled half and each row's Σ s first (four channels at a time).
    const loops = len2 % 4 === 0 && len2 > 0 ? loopsFor(memory) : null;
    const coupled = loops ? memory.output([rows, len2]) : null;
    const rowSums = loops ? memory.output([rows]) : null;
    if (loops && memory.wasm && coupled && rowSums) {
      const addr = memory.wasm.address;
      loops.coupling(addr(raw), addr(x), addr(tanhs), addr(exps), addr(coupled), addr(rowSums), rows, len1, len2, channels, clamp);
    }
    const [xv, gv, ov, pv, av, ldv, thv, ev] = [x, list[at.g], list[at.offset], list[at.perm], raw, logDet, tanhs, exps].map((t) => memory.view(t));
    const cv = coupled ? memory.view(coupled) : null;
    const sv = rowSums ? memory.view(rowSums) : null;
    const zv = z ? memory.view(z) : null;
    const yv = y ? memory.view(y) : null;
    const { scale } = globalScale(gv, a.scaleType);
    let logScale = 0;
    for (let c = 0; c < channels; c++) logScale += Math.log(scale[c]);
    ldv.fill(0);
    const zr = new Float64Array(channels);
    for (let r = 0; r < rows; r++) {
      const xRow = r * channels;
      const aRow = r * 2 * len2;
      for (let c = 0; c < len1; c++) zr[c] = xv[xRow + c] * scale[c] + ov[c];
      let sum = 0;
      if (cv && sv) {
        for (let j = 0, c = len1; j < len2; j++, c++) zr[c] = cv[r * len2 + j] * scale[c] + ov[c];
        sum = sv[r];
      }
      for (let j = 0; j < len2 && !cv; j++) {
        // tanh(v) = 1 − 2 / (exp(2v) + 1): one exp, half the time of Math.tanh (exact enough in doubles).
        const th = 1 - 2 / (Math.exp((0.2 * av[aRow + j]) / clamp) + 1);
        const s = clamp * th;
        const e = Math.exp(s);
        const c = len1 + j;
        thv[r * len2 + j] = th;
        ev[r * len2 + j] = e;
        zr[c] = (xv[xRow + c] * e + 0.1 * av[aRow + len2 + j]) * scale[c] + ov[c];
        sum += s;
      }
      ldv[Math.floor(r / spatial)] += sum;
      if (zv) {
        for (let c = 0; c < channels; c++) zv[xRow + c] = zr[c];
      } else if (soft) {
        for (let k = 0; k < channels; k++) {
          let acc = 0;
          for (let j = 0; j < channels; j++) acc += pv[k * channels + j] * zr[j];
          yv![xRow + k] = acc;
        }
      } else {
        for (let k = 0; k < channels; k++) yv![xRow + k] = zr[pv[k]];
      }
    }
    for (let b = 0; b < batch; b++) ldv[b] += spatial * logScale;
    for (const t of [coupled, rowSums]) if (t) kernelBackend.disposeData(t.dataId);
    let result = y;
    if (z) {
      // Per pixel y = W z: rows of z times Wᵀ.
      result = product(backendName, backend, z, list[at.perm], false, true);
      kernelBackend.disposeData(z.dataId);
    }
    return [result!, logDet, u, ...hidden, raw, tanhs, exps];
  };
}

function allInOneGradient(backendName: string) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] => {
    // Cast: see ALL_IN_ONE_GRAD_KERNEL for the attributes and the order of the inputs.
    const a = attrs as unknown as AllInOneAttrs;
    const list = inputs as unknown as tf.TensorInfo[];
    const { len1, len2, condChannels: cc, spatial, layers, soft } = a;
    const [dy, dLogDet, x, g, perm] = list;
    let k = soft ? 5 : 6;
    const permInverse = soft ? null : list[5];
    const u = list[k++];
    const hidden = list.slice(k, k + layers - 1);
    k += layers - 1;
    const raw = list[k++];
    const tanhs = list[k++];
    const exps = list[k++];
    const weights = list.slice(k, k + layers);
    const [rows, channels] = x.shape;
    const memory = hostMemory(backendName, backend);
    const kernelBackend = backend as tf.KernelBackend;
    const temporaries: tf.TensorInfo[] = [];

    // dz = P⁻¹ dy: a product for wide rotations, a loop otherwise.
    const viaProduct = soft && channels > SMALL_ROTATION;
    const dzProduct = viaProduct ? product(backendName, backend, dy, perm, false, false) : null;
    if (dzProduct) temporaries.push(dzProduct);

    const dx = memory.output([rows, channels]);
    const dg = memory.output([channels]);
    const dOffset = memory.output([channels]);
    const dRaw = memory.output([rows, 2 * len2]);
    const dLastBias = memory.output([2 * len2]);
    temporaries.push(dRaw);
    const [dyv, dldv, xv, gv, pv, av, thv, ev, dxv, drv] = [dy, dLogDet, x, g, perm, raw, tanhs, exps, dx, dRaw].map((t) => memory.view(t));
    const dzv = dzProduct ? memory.view(dzProduct) : null;
    const piv = permInverse ? memory.view(permInverse) : null;
    const { scale, slope } = globalScale(gv, a.scaleType);
    const offsetSum = new Float64Array(channels);
    const scaleSum = new Float64Array(channels);
    const lastBias = new Float64Array(2 * len2);
    const dz = new Float64Array(channels);
    let totalLogDet = 0;
    for (let b = 0; b < dldv.length; b++) totalLogDet += dldv[b];
    /** dz = P⁻¹ dy for row `r`: from the product, the rotation, or the inverse permutation (views as of `source`). */
    const unpermute = (r: number, into: Float64Array | HostArray, at: number, source: { dzv: HostArray | null; pv: HostArray; dyv: HostArray; piv: HostArray | null }) => {
      const { dzv, pv, dyv, piv } = source;
      const row = r * channels;
      if (dzv) {
        for (let c = 0; c < channels; c++) into[at + c] = dzv[row + c];
      } else if (soft) {
        for (let j = 0; j < channels; j++) {
          let acc = 0;
          for (let q = 0; q < channels; q++) acc += pv[q * channels + j] * dyv[row + q];
          into[at + j] = acc;
        }
      } else {
        // y[k] = z[perm[k]], so dz[j] = dy[permInverse[j]].
        for (let j = 0; j < channels; j++) into[at + j] = dyv[row + piv![j]];
      }
    };
    const loops = len2 % 4 === 0 && len2 > 0 ? loopsFor(memory) : null;
    if (loops && memory.wasm) {
      // The active half in our SIMD loop: dz, each row's log-det gradient and the scale go to the heap first.
      const buffers = [memory.output([rows, channels]), memory.output([rows]), memory.output([len2]), memory.output([4, len2])];
      temporaries.push(...buffers);
      const [dzBuf, dlBuf, scaleBuf, sumsBuf] = buffers;
      const [zb, lb, sb, ub, xv2, dxv2, dlv2] = [dzBuf, dlBuf, scaleBuf, sumsBuf, x, dx, dLogDet].map((t) => memory.view(t));
      const source = { dzv: dzProduct ? memory.view(dzProduct) : null, pv: memory.view(perm), dyv: memory.view(dy), piv: permInverse ? memory.view(permInverse) : null };
      for (let r = 0; r < rows; r++) {
        unpermute(r, zb, r * channels, source);
        lb[r] = dlv2[Math.floor(r / spatial)];
        for (let c = 0; c < len1; c++) {
          const v = zb[r * channels + c];
          offsetSum[c] += v;
          scaleSum[c] += v * xv2[r * channels + c];
          dxv2[r * channels + c] = v * scale[c];
        }
      }
      for (let j = 0; j < len2; j++) sb[j] = scale[len1 + j];
      ub.fill(0);
      const addr = memory.wasm.address;
      loops.couplingGrad(addr(dzBuf), addr(x), addr(tanhs), addr(exps), addr(raw), addr(dlBuf), addr(scaleBuf), addr(dx), addr(dRaw), addr(sumsBuf), rows, len1, len2, channels);
      const sums = memory.view(sumsBuf);
      for (let j = 0; j < len2; j++) {
        offsetSum[len1 + j] = sums[j];
        scaleSum[len1 + j] = sums[len2 + j];
        lastBias[j] = sums[2 * len2 + j];
        lastBias[len2 + j] = sums[3 * len2 + j];
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const row = r * channels;
        const aRow = r * 2 * len2;
        const dl = dldv[Math.floor(r / spatial)];
        unpermute(r, dz, 0, { dzv, pv, dyv, piv });
        for (let c = 0; c < len1; c++) {
          offsetSum[c] += dz[c];
          scaleSum[c] += dz[c] * xv[row + c];
          dxv[row + c] = dz[c] * scale[c];
        }
        for (let j = 0; j < len2; j++) {
          const c = len1 + j;
          const th = thv[r * len2 + j];
          const e = ev[r * len2 + j];
          const x2 = xv[row + c];
          offsetSum[c] += dz[c];
          scaleSum[c] += dz[c] * (x2 * e + 0.1 * av[aRow + len2 + j]);
          const dOut = dz[c] * scale[c];
          dxv[row + c] = dOut * e;
          const ds = dOut * x2 * e + dl;
          const dS = 0.1 * ds * (1 - th * th);
          const dT = 0.1 * dOut;
          drv[aRow + j] = dS;
          drv[aRow + len2 + j] = dT;
          lastBias[j] += dS;
          lastBias[len2 + j] += dT;
        }
      }
    }
    // Views again: the SIMD path allocated (the heap may have moved).
    const [dov, dgv, dbv] = [dOffset, dg, dLastBias].map((t) => memory.view(t));
    for (let c = 0; c < channels; c++) {
      dov[c] = offsetSum[c];
      // log|det| holds spatial · Σ log scale for every sample.
      dgv[c] = (scaleSum[c] + (spatial * totalLogDet) / scale[c]) * slope[c];
    }
    dbv.set(lastBias);

    // The subnet, last layer first.
    const layerGrads: tf.TensorInfo[][] = [];
    let d = dRaw;
    let bias = dLastBias;
    let du: tf.TensorInfo | null = null;
    for (let i = layers - 1; i >= 0; i--) {
      const input = i === 0 ? u : hidden[i - 1];
      layerGrads[i] = [reshaped(transposedProduct(backendName, backend, memory, input, d), weights[i].shape), bias];
      const dIn = product(backendName, backend, d, weights[i], false, true);
      temporaries.push(dIn);
      if (i === 0) {
        du = dIn;
        break;
      }
      // Through the ReLU: zero where the activation was, and the previous layer's bias gradient.
      const nextBias = memory.output([dIn.shape[1]]);
      const [dv, hv, nbv] = [dIn, input, nextBias].map((t) => memory.view(t));
      const loops = loopsFor(memory);
      if (loops && memory.wasm && dIn.shape[1] % 4 === 0) {
        nbv.fill(0);
        const at = memory.wasm.address;
        loops.reluMask(at(dIn), at(input), at(nextBias), rows, dIn.shape[1]);
      } else {
        maskRelu(dv, hv, nbv, rows, dIn.shape[1]);
      }
      d = dIn;
      bias = nextBias;
    }

    // x1 and the conditions also fed the subnet.
    const width = len1 + cc;
    const dCond = cc > 0 ? memory.output([rows, cc]) : null;
    const [duv, dxv2] = [du!, dx].map((t) => memory.view(t));
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < len1; c++) dxv2[r * channels + c] += duv[r * width + c];
    }
    if (dCond) copyColumns(duv, width, len1, memory.view(dCond), cc, 0, cc, rows);
    for (const t of temporaries) kernelBackend.disposeData(t.dataId);
    return [dx, dg, dOffset, ...(dCond ? [dCond] : []), ...layerGrads.flat()];
  };
}

let gradientRegistered = false;

/** The gradient of ALL_IN_ONE_KERNEL, for every backend that has the kernel: one call of ALL_IN_ONE_GRAD_KERNEL. */
function registerAllInOneGradient(): void {
  if (gradientRegistered || tf.getGradient(ALL_IN_ONE_KERNEL)) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: ALL_IN_ONE_KERNEL,
    saveAllInputs: true,
    // The intermediate outputs (u, each hidden activation, the subnet's output, tanh, exp) for any depth up to 60 layers.
    outputsToSave: [false, false, ...Array<boolean>(64).fill(true)],
    gradFunc: (dys, saved, attrs) => {
      // Cast: this kernel's attributes are AllInOneAttrs; it has several outputs, so dy is a list.
      const a = attrs as unknown as AllInOneAttrs;
      const [dy, dLogDet] = dys as tf.Tensor[];
      const at = allInOneLayout(a);
      const inputs = saved.slice(0, at.count);
      const outputs = saved.slice(at.count, at.count + a.layers + 3);
      const weights = Array.from({ length: a.layers }, (_, i) => inputs[at.weights + 2 * i]);
      const gradInputs = [dy, dLogDet, inputs[at.x], inputs[at.g], inputs[at.perm], ...(a.soft ? [] : [inputs[at.permInverse]]), ...outputs, ...weights];
      // Cast: a list of inputs, as for Concat; several outputs come back as a list.
      const grads = tf.engine().runKernel(ALL_IN_ONE_GRAD_KERNEL, gradInputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
      const [dx, dg, dOffset] = grads;
      const rest = grads.slice(a.condChannels > 0 ? 4 : 3);
      const map: Record<string, () => tf.Tensor> = { [at.x]: () => dx, [at.g]: () => dg, [at.offset]: () => dOffset };
      if (a.condChannels > 0) map[at.cond] = () => grads[3];
      rest.forEach((t, i) => (map[at.weights + i] = () => t));
      // The permutation is a constant: no gradient flows to it.
      map[at.perm] = () => tf.zerosLike(inputs[at.perm]);
      if (!a.soft) map[at.permInverse] = () => tf.zerosLike(inputs[at.permInverse]);
      return map;
    },
  });
}
