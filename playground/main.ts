/**
 * The playground: pick a 2-D data set (or draw one) and a flow, and watch it
 * train. Training runs in chunks of `train.fitAsync` steps sized to about
 * 30 ms, with a frame between chunks, so the page never blocks; the density
 * and the samples are read asynchronously a few times a second.
 *
 * URL parameters set the first choice: `?data=circles&block=glow&depth=4&hidden=64&lr=0.003`,
 * and `backend=wasm` (or `webgl`, `webgpu`, `cpu`) forces a backend.
 * `window.__playground.state()` reports what runs (scripts/browser-check.mjs reads it).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { backendInfo, dist, ready, train, useBackend } from '../src/index.js';
import { mulberry32 } from '../src/math/rng.js';
import { datasetNames, range, samplePoints, sampleDrawn, type DatasetName } from './datasets.js';
import { blockLabel, blockNames, buildFlow, builderCode, type BlockName, type Flow2d, type FlowSettings } from './flows.js';
import { drawDensity, drawLoss, drawPoints, toData } from './render.js';

setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });

const batchSize = 256;
const gridSize = 64;
const depths = [1, 2, 4, 6, 8, 12];
const hiddens = [16, 32, 64, 128, 256];
const learningRates = [3e-4, 1e-3, 3e-3, 1e-2];

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvases = { data: element<HTMLCanvasElement>('data'), density: element<HTMLCanvasElement>('density'), samples: element<HTMLCanvasElement>('samples'), loss: element<HTMLCanvasElement>('loss') };
const menus = { dataset: element<HTMLSelectElement>('dataset'), block: element<HTMLSelectElement>('block'), depth: element<HTMLSelectElement>('depth'), hidden: element<HTMLSelectElement>('hidden'), lr: element<HTMLSelectElement>('lr') };
const status = element<HTMLDivElement>('status');

function fill(menu: HTMLSelectElement, values: readonly (string | number)[], label: (v: string) => string, chosen: string): void {
  for (const v of values) menu.add(new Option(label(String(v)), String(v), false, String(v) === chosen));
}
const params = new URLSearchParams(location.search);
const pick = <T extends string | number>(name: string, values: readonly T[], fallback: T): string => {
  const asked = params.get(name);
  return values.some((v) => String(v) === asked) ? asked! : String(fallback);
};
fill(menus.dataset, datasetNames, (v) => v, pick('data', datasetNames, 'moons'));
fill(menus.block, blockNames, (v) => `${v}: ${blockLabel(v as BlockName)}`, pick('block', blockNames, 'allInOne'));
fill(menus.depth, depths, (v) => v, pick('depth', depths, 8));
fill(menus.hidden, hiddens, (v) => v, pick('hidden', hiddens, 64));
fill(menus.lr, learningRates, (v) => v, pick('lr', learningRates, 3e-3));

/** What the menus say. */
function chosen(): { dataset: DatasetName; flow: FlowSettings; learningRate: number } {
  return {
    dataset: menus.dataset.value as DatasetName,
    flow: { block: menus.block.value as BlockName, depth: Number(menus.depth.value), hidden: Number(menus.hidden.value) },
    learningRate: Number(menus.lr.value),
  };
}

/** One training run: a flow, its optimizer and its losses. Replaced (and disposed) when a menu changes. */
interface Session {
  readonly id: number;
  readonly dataset: DatasetName;
  readonly settings: FlowSettings;
  readonly flow: Flow2d;
  readonly model: ReturnType<typeof dist.pullBack<[[2]], [[2]], []>>;
  readonly optimizer: tf.Optimizer;
  readonly losses: number[];
}

const rng = mulberry32(Date.now() >>> 0);
/** The drawn points, x,y interleaved, in data coordinates. */
const drawn: number[] = [];
let session: Session | undefined;
let sessions = 0;
let restartWanted = true;
let paused = false;
let failure: string | undefined;
let graphFor = -1;
let densityDraws = 0;
let sampleDraws = 0;
let stepsPerSecond = 0;
let backend = '';
/** Tensors alive between training chunks, and when that was counted (performance.now()). */
let resting = 0;
let restingAt = 0;

const hasData = (name: DatasetName) => name !== 'drawn' || drawn.length > 0;

/** The data panel: a fixed sample of the data set (or of the drawing, with the drawn points ringed). */
function drawData(): void {
  const name = menus.dataset.value as DatasetName;
  if (!hasData(name)) {
    drawPoints(canvases.data, [], '#2563eb');
    const ctx = canvases.data.getContext('2d')!;
    ctx.fillStyle = '#6b7280';
    ctx.font = '14px sans-serif';
    ctx.fillText('click or drag to draw points', 60, 150);
    return;
  }
  const points = name === 'drawn' ? sampleDrawn(1000, rng, drawn) : samplePoints(name, 1000, rng, drawn);
  drawPoints(canvases.data, points, 'rgba(37,99,235,0.45)', name === 'drawn' ? drawn : []);
}

function clearPanels(): void {
  for (const canvas of [canvases.density, canvases.samples]) {
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  drawLoss(canvases.loss, []);
}

/** Disposes the old session and starts a new one from the menus. */
function restart(): void {
  const { dataset, flow: settings, learningRate } = chosen();
  if (session) {
    session.flow.dispose();
    session.optimizer.dispose();
  }
  session = undefined;
  failure = undefined;
  const flow = buildFlow(settings);
  session = { id: ++sessions, dataset, settings, flow, model: dist.pullBack(flow), optimizer: train.adam(learningRate), losses: [] };
  element<HTMLPreElement>('code').textContent = builderCode(settings, learningRate, batchSize);
  const id = session.id;
  element<HTMLDivElement>('graph').textContent = 'drawing…';
  flow.toSvg('flow').then((svg) => {
    if (session?.id !== id) return;
    element<HTMLDivElement>('graph').innerHTML = svg.slice(svg.indexOf('<svg'));
    graphFor = id;
  }, (error: unknown) => fail(`the graph: ${String(error)}`));
  drawData();
  clearPanels();
}

/** The points of the density's grid over the panel, `[gridSize², 2]` (made once the backend is ready). */
let grid: tf.Tensor2D | undefined;
const makeGrid = () => tf.tidy(() => {
  const step = (2 * range) / gridSize;
  const ticks = tf.add(tf.mul(tf.range(0, gridSize), step), -range + step / 2);
  const xs = tf.reshape(tf.tile(tf.expandDims(ticks, 0), [gridSize, 1]), [-1]);
  const ys = tf.reshape(tf.tile(tf.expandDims(ticks, 1), [1, gridSize]), [-1]);
  return tf.stack([xs, ys], 1) as tf.Tensor2D;
});

/** The learnt density on the grid, read asynchronously. */
async function showDensity(s: Session): Promise<void> {
  grid ??= makeGrid();
  const density = tf.tidy(() => tf.exp(s.model.logProb(grid!)));
  try {
    drawDensity(canvases.density, (await density.data()) as Float32Array, gridSize);
    densityDraws++;
  } finally {
    density.dispose();
  }
}

async function showSamples(s: Session): Promise<void> {
  const samples = tf.tidy(() => s.model.sample(500) as tf.Tensor);
  try {
    drawPoints(canvases.samples, await samples.data(), 'rgba(22,163,74,0.6)');
    sampleDraws++;
  } finally {
    samples.dispose();
  }
}

function showStatus(): void {
  const s = session;
  const loss = s && s.losses.length ? s.losses[s.losses.length - 1].toFixed(3) : '–';
  const state = failure ? `stopped: ${failure}` : paused ? 'paused' : s && !hasData(s.dataset) ? 'waiting for drawn points' : 'training';
  status.textContent = `backend ${backend} · ${state} · step ${s?.losses.length ?? 0} · loss ${loss} · ${stepsPerSecond.toFixed(0)} steps/s · ${tf.memory().numTensors} tensors`;
  status.classList.toggle('error', failure !== undefined);
}

function fail(message: string): void {
  failure = message;
  console.error(`playground: ${message}`);
  showStatus();
}

/** The WebGL renderer's name when the webgl backend runs and it is a software rasteriser (SwiftShader, llvmpipe). */
function softwareWebGl(): string | undefined {
  if (tf.getBackend() !== 'webgl') return undefined;
  const gl = document.createElement('canvas').getContext('webgl2');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  gl?.getExtension('WEBGL_lose_context')?.loseContext();
  return /swiftshader|llvmpipe|softpipe|lavapipe|software/i.exec(renderer)?.[0];
}

/** Why the GPU backend that runs is software (`WebGL is software here: SwiftShader`), or undefined. */
function softwareGpu(): string | undefined {
  const gl = softwareWebGl();
  if (gl) return `WebGL is software here: ${gl}`;
  const info = backendInfo();
  return info.name === 'webgpu' && info.adapter?.software ? `WebGPU is software here: ${info.adapter.architecture || info.adapter.description || 'a fallback adapter'}` : undefined;
}

const nextFrame = () => new Promise<void>((resolve) => {
  // A frame when the page is shown, a short timer when it is hidden (no frames then).
  const timer = setTimeout(resolve, 100);
  requestAnimationFrame(() => {
    clearTimeout(timer);
    resolve();
  });
});

/** The training loop: a chunk of steps, the pictures when due, a frame; forever. */
async function loop(): Promise<void> {
  let chunk = 2;
  let lastDensity = 0;
  let lastSamples = 0;
  let densityEvery = 300;
  let samplesEvery = 500;
  for (;;) {
    if (restartWanted) {
      restartWanted = false;
      restart();
      lastDensity = lastSamples = 0;
    }
    const s = session!;
    if (paused || failure || !hasData(s.dataset)) {
      showStatus();
      await nextFrame();
      continue;
    }
    const started = performance.now();
    try {
      await train.fitAsync(s.flow, {
        data: () => ({ x: tf.tensor2d(samplePoints(s.dataset, batchSize, rng, drawn), [batchSize, 2]) }),
        steps: chunk, initialStep: s.losses.length, optimizer: s.optimizer, clipNorm: 5, progress: false,
        onStep: (_step, loss) => s.losses.push(loss),
      });
    } catch (error) {
      // A diverged run (a non-finite loss) stops until a menu changes or "restart".
      failure = error instanceof Error ? error.message : String(error);
      showStatus();
      continue;
    }
    const elapsed = performance.now() - started;
    stepsPerSecond = 0.8 * stepsPerSecond + 0.2 * ((1000 * chunk) / Math.max(elapsed, 1));
    chunk = Math.max(1, Math.min(50, Math.round((chunk * 30) / Math.max(elapsed, 1))));
    // The pictures a few times a second, but never more than a fifth of the time each (slow flows train too).
    const now = performance.now();
    if (now - lastDensity > densityEvery) {
      await showDensity(s);
      lastDensity = performance.now();
      densityEvery = Math.max(300, 4 * (lastDensity - now));
    }
    if (now - lastSamples > samplesEvery) {
      const before = performance.now();
      await showSamples(s);
      lastSamples = performance.now();
      samplesEvery = Math.max(500, 4 * (lastSamples - before));
    }
    drawLoss(canvases.loss, s.losses);
    showStatus();
    resting = tf.memory().numTensors;
    restingAt = performance.now();
    await nextFrame();
  }
}

for (const menu of Object.values(menus)) menu.addEventListener('change', () => (restartWanted = true));
element<HTMLButtonElement>('reset').addEventListener('click', () => (restartWanted = true));
element<HTMLButtonElement>('pause').addEventListener('click', (event) => {
  paused = !paused;
  (event.target as HTMLButtonElement).textContent = paused ? 'resume' : 'pause';
});
element<HTMLButtonElement>('clear').addEventListener('click', () => {
  drawn.length = 0;
  drawData();
});

// Drawing: a click adds a point, a drag adds one every 6 pixels. Drawing while
// another data set is shown switches to the drawing (a new run); drawing on
// the drawing keeps the run going on the grown data.
let lastPoint: [number, number] | undefined;
function addPoint(event: PointerEvent): void {
  const box = canvases.data.getBoundingClientRect();
  const px = ((event.clientX - box.left) / box.width) * canvases.data.width;
  const py = ((event.clientY - box.top) / box.height) * canvases.data.height;
  if (lastPoint && Math.hypot(px - lastPoint[0], py - lastPoint[1]) < 6) return;
  lastPoint = [px, py];
  drawn.push(...toData(canvases.data, px, py));
  if (menus.dataset.value !== 'drawn') {
    menus.dataset.value = 'drawn';
    restartWanted = true;
  }
  drawData();
}
canvases.data.addEventListener('pointerdown', (event) => {
  canvases.data.setPointerCapture(event.pointerId);
  lastPoint = undefined;
  addPoint(event);
});
canvases.data.addEventListener('pointermove', (event) => {
  if (event.buttons & 1) addPoint(event);
});

window.addEventListener('error', (event) => fail(String(event.error ?? event.message)));
window.addEventListener('unhandledrejection', (event) => fail(String(event.reason)));

/** What runs, for people in the console and for scripts/browser-check.mjs. */
(window as unknown as { __playground: unknown }).__playground = {
  state: () => ({
    backend, dataset: session?.dataset, ...session?.settings, session: session?.id, step: session?.losses.length ?? 0,
    loss: session?.losses.at(-1), drawn: drawn.length / 2, graph: graphFor === session?.id, densityDraws, sampleDraws,
    tensors: tf.memory().numTensors, resting, restingAt, failure, paused,
  }),
};

try {
  const asked = params.get('backend');
  if (asked) await useBackend(asked);
  else await ready();
  backend = backendInfo().description;
  // WebGL or WebGPU drawn by a software rasteriser (a machine without a GPU,
  // headless Chromium) is many times slower than WebAssembly: use that instead.
  const renderer = asked ? undefined : softwareGpu();
  if (renderer) {
    await useBackend('wasm');
    backend = `${backendInfo().description} (${renderer})`;
  }
  await loop();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
