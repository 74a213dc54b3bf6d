#!/usr/bin/env node
// The playground's half of `npm run check:browser` (also runnable alone:
// `node scripts/playground-check.mjs`). Builds playground/ with Vite, serves
// it, and drives it in headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: no port, no WebSocket library): it lets the page
// train, draws a stroke on the data panel with the mouse (the "drawn" data
// set), then switches the data set and the flow through the menus, as a person
// would. It reads window.__playground.state() between the acts, fails on any
// console error, uncaught exception or failed load, checks that the tensor
// count between training chunks stays flat (the old flow is disposed), and
// saves a screenshot to playground/check-screenshot.png. Chromium gets
// software WebGL and WebGPU (SwiftShader): the page, left to itself, must
// leave them for wasm and say why; then it is forced onto each
// (`?backend=webgl`, `?backend=webgpu`) and must train there too.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './static-server.mjs';
import { openPage, sleep } from './chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Polling helpers on one open page: its state, a wait for a condition, the tensor check between training chunks. */
function driver(browser, lines, stamp) {
  const { evaluate, errors } = browser;
  const state = () => evaluate('window.__playground?.state()');
  /** Polls the page's state until `test` holds; throws with the last state after `seconds`. */
  const waitFor = async (what, test, seconds) => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const s = await state().catch(() => undefined);
      if (errors.length) throw new Error(`while waiting for ${what}: ${errors[0]}`);
      if (s?.failure) throw new Error(`while waiting for ${what}: the page stopped: ${s.failure}`);
      if (s && test(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}; last state ${JSON.stringify(s)}`);
      await sleep(250);
    }
  };
  /** A session's tensors at rest (between training chunks) at two steps; they must match. */
  const flatBetween = async (what, session, first, second, seconds = 120) => {
    const a = await waitFor(`${what}: step ${first}`, (s) => s.session === session && s.step >= first && s.graph && s.densityDraws > 0, seconds);
    const b = await waitFor(`${what}: step ${second}`, (s) => s.session === session && s.step >= second && s.restingAt > a.restingAt, seconds);
    lines.push(`playground ${stamp()}: ${what}: backend ${a.backend}, step ${a.step} loss ${a.loss.toFixed(3)} → step ${b.step} loss ${b.loss.toFixed(3)}, ${a.resting} → ${b.resting} tensors at rest`);
    if (a.resting !== b.resting) throw new Error(`${what}: tensors at rest grew from ${a.resting} (step ${a.step}) to ${b.resting} (step ${b.step})`);
    return b;
  };
  return { waitFor, flatBetween };
}

// --enable-unsafe-swiftshader and --enable-unsafe-webgpu: WebGL and WebGPU in software (SwiftShader) where there is no
// GPU, so the page meets a software GPU backend first (and leaves it for wasm), and can be made to run on each.
const GPU_FLAGS = ['--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

/**
 * The page forced onto a GPU backend (`?backend=webgl|webgpu`): it trains a
 * few chunks on it with flat tensors and no console error. Here that is
 * SwiftShader, a software rasteriser: the same code path as on a GPU, not its speed.
 */
async function checkForcedBackend(url, backend, { chromium, lines, stamp }) {
  const browser = await openPage(`${url}index.html?backend=${backend}&data=circles&block=glow&depth=4&hidden=32`, { chromium, flags: GPU_FLAGS });
  try {
    const { flatBetween } = driver(browser, lines, stamp);
    const run = await flatBetween(`circles, glow ×4, forced ${backend}`, 1, 10, 20, 180);
    if (!run.backend.startsWith(backend)) throw new Error(`asked for ${backend}, the page runs on ${run.backend}`);
    if (browser.errors.length) throw new Error(browser.errors.join('\n'));
    if (browser.warnings.length) lines.push(`playground (${backend}): ${browser.warnings.length} console warnings, the first: ${browser.warnings[0].slice(0, 300)}`);
  } finally {
    await browser.close();
  }
}

/** Builds, serves and drives the playground; resolves to { ok, lines } (lines: what to print). */
export async function checkPlayground({ chromium = process.env.CHROMIUM ?? '/usr/bin/chromium', screenshot = path.join(root, 'playground', 'check-screenshot.png') } = {}) {
  const lines = [];
  const build = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', 'playground/vite.config.ts', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return { ok: false, lines: ['playground: the Vite build failed'] };
  const server = await serveDirectory(path.join(root, 'playground', 'dist'));
  const started = Date.now();
  const stamp = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  let browser;
  try {
    browser = await openPage(`${server.url}index.html?data=moons&block=allInOne&depth=8&hidden=64`, { chromium, flags: GPU_FLAGS });
    const { send: page, evaluate, errors, warnings } = browser;
    const { waitFor, flatBetween } = driver(browser, lines, stamp);
    const choose = (menu, value) => evaluate(`(() => { const m = document.getElementById(${JSON.stringify(menu)}); m.value = ${JSON.stringify(value)}; m.dispatchEvent(new Event('change')); return m.value; })()`);

    // 1. It trains: moons, 8 AllInOne blocks.
    const first = await flatBetween('moons, allInOne ×8', 1, 20, 60);
    // Left to itself on a machine without a GPU, the page leaves the software GPU backend for wasm and says why.
    if (!/^wasm \((WebGL|WebGPU) is software here/.test(first.backend)) throw new Error(`without a GPU the page should run on wasm and say why, it runs on: ${first.backend}`);

    // 2. A stroke drawn with the mouse on the data panel: a new run on the "drawn" data set, same flow.
    const box = await evaluate(`(() => { const r = document.getElementById('data').getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; })()`);
    const stroke = Array.from({ length: 40 }, (_, i) => {
      const t = i / 39;
      return { x: box.x + box.w * (0.2 + 0.6 * t), y: box.y + box.h * (0.5 - 0.3 * Math.sin(Math.PI * t)) };
    });
    await page('Input.dispatchMouseEvent', { type: 'mousePressed', ...stroke[0], button: 'left', buttons: 1, clickCount: 1 });
    for (const point of stroke.slice(1)) await page('Input.dispatchMouseEvent', { type: 'mouseMoved', ...point, button: 'left', buttons: 1 });
    await page('Input.dispatchMouseEvent', { type: 'mouseReleased', ...stroke.at(-1), button: 'left', buttons: 0, clickCount: 1 });
    const drawn = await flatBetween('drawn stroke, allInOne ×8', 2, 20, 40);
    if (drawn.dataset !== 'drawn' || drawn.drawn < 10) throw new Error(`the stroke did not make a drawn data set: ${JSON.stringify(drawn)}`);
    if (drawn.resting !== first.resting) throw new Error(`the same flow on new data holds ${drawn.resting} tensors at rest, the first run ${first.resting}: the old flow was not disposed`);
    lines.push(`playground ${stamp()}: the stroke gave ${drawn.drawn} drawn points`);

    // 3. Another data set and another flow, through the menus.
    await choose('dataset', 'moons');
    await choose('block', 'rqSpline');
    await choose('depth', '4');
    const spline = await waitFor('the spline flow on moons', (s) => s.block === 'rqSpline' && s.depth === 4 && s.dataset === 'moons' && s.step >= 1, 60);
    const last = await flatBetween('moons, rqSpline ×4', spline.session, 20, 40);
    // 4. Train on a while for the picture: until step 600 or 45 s more, whichever is first.
    const until = Date.now() + 45_000;
    let end = last;
    while (Date.now() < until && end.step < 600) {
      await sleep(1000);
      end = await waitFor('more training', (s) => s.session === last.session, 10);
    }
    const final = await waitFor('fresh pictures', (s) => s.session === last.session && s.restingAt > end.restingAt + 300 && s.graph, 30);
    lines.push(`playground ${stamp()}: moons, rqSpline ×4: step ${final.step}, loss ${final.loss.toFixed(3)}, ${final.resting} tensors at rest`);
    writeFileSync(screenshot, await browser.screenshot());
    lines.push(`playground: screenshot ${path.relative(process.cwd(), screenshot)}`);
    if (warnings.length) lines.push(`playground: ${warnings.length} console warnings, the first: ${warnings[0].slice(0, 300)}`);
    if (errors.length) throw new Error(errors.join('\n'));
    await browser.close();
    browser = undefined;

    // 5. The GPU code paths: the page forced onto WebGL, then WebGPU.
    for (const backend of ['webgl', 'webgpu']) await checkForcedBackend(server.url, backend, { chromium, lines, stamp });
    return { ok: true, lines };
  } catch (error) {
    lines.push(`playground FAIL ${stamp()}: ${error instanceof Error ? error.message : String(error)}`);
    for (const e of browser?.errors.slice(0, 5) ?? []) lines.push(`  ${e}`);
    return { ok: false, lines };
  } finally {
    await browser?.close();
    server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { ok, lines } = await checkPlayground();
  for (const line of lines) console.log(line);
  process.exit(ok ? 0 : 1);
}
