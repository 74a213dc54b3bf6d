/**
 * WebGPU in Node: Dawn (the `webgpu` package, whose native binary ships in
 * the npm package) under `@tensorflow/tfjs-backend-webgpu`.
 *
 * The tfjs package registers its backend only where `navigator.gpu` exists
 * (browsers), and then takes whatever adapter `requestAdapter()` returns. In
 * Node we register the backend ourselves, on an adapter we chose:
 *
 * 1. Dawn's default APIs (Vulkan on Linux, Metal on macOS, D3D12 on
 *    Windows), asking for the high-performance adapter;
 * 2. only when WebGPU was asked for by name (`FREIA_BACKEND=webgpu`,
 *    `useBackend('webgpu')`) and step 1 found no hardware GPU, on Linux:
 *    OpenGL through EGL without a display (`EGL_PLATFORM=surfaceless`) in
 *    Dawn's compatibility mode, which is how Mesa's llvmpipe serves WebGPU
 *    on a machine without a GPU.
 *
 * A hardware adapter wins; a software rasteriser (llvmpipe, lavapipe,
 * SwiftShader, WARP, or one Dawn calls a fallback adapter) is used only when
 * WebGPU was asked for by name, since it is far slower than wasm.
 *
 * Everything Node-specific is reached by dynamic imports with variable
 * specifiers and typed here by hand, so the library stays browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { FreiaError } from '../core/errors.js';
import { importOptional, nodeProcess } from './host.js';

/** The npm packages WebGPU needs in Node (both optional peers). */
export const webgpuPackages = { dawn: 'webgpu', backend: '@tensorflow/tfjs-backend-webgpu' } as const;

/**
 * The GPU adapter the WebGPU backend runs on, as {@link backendInfo} reports it.
 *
 * @group Backends
 */
export interface GpuAdapterReport {
  /** The adapter's vendor (`'nvidia'`, `'mesa'`); may be empty. */
  readonly vendor: string;
  /** Its architecture; may be empty. */
  readonly architecture: string;
  /** Its device name; may be empty. */
  readonly device: string;
  /** The driver's description (`'OpenGL version 4.5 (Core Profile) Mesa 22.3.6'`); may be empty. */
  readonly description: string;
  /** A software rasteriser (llvmpipe, lavapipe, SwiftShader, WARP): WebGPU without a GPU. */
  readonly software: boolean;
  /** How Dawn reached it in Node: its default API (Vulkan, Metal or D3D12) or OpenGL through EGL; absent when not known (a browser). */
  readonly api?: 'default' | 'opengl';
}

// The few WebGPU types used here, by hand: neither ES2022's lib nor the DOM lib of TypeScript 5.9 has them.
interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  readonly features: { has(name: string): boolean };
  readonly limits: Readonly<Record<string, number>>;
  requestDevice(descriptor?: object): Promise<GpuDeviceLike>;
}
/** A GPUDevice, as far as used here: where WebGPU reports errors that no error scope caught. */
interface GpuDeviceLike {
  onuncapturederror: ((event: { readonly error?: { readonly message?: string } }) => void) | null;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}
/** The `webgpu` package: Dawn's `navigator.gpu` factory and the WebGPU globals (`GPUBufferUsage`, ...). */
interface DawnModule {
  create(options: string[]): GpuLike;
  readonly globals: object;
}
interface WebGpuBackendModule {
  readonly WebGPUBackend: new (device: object, adapterInfo?: object) => tf.KernelBackend;
}

const softwareName = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** What an adapter says about itself, and whether it is a software rasteriser. */
export function describeAdapter(info: GpuAdapterInfoLike, api?: GpuAdapterReport['api'], fallback = false): GpuAdapterReport {
  const text = (s: string | undefined) => (s ?? '').trim();
  const report = { vendor: text(info.vendor), architecture: text(info.architecture), device: text(info.device), description: text(info.description) };
  const software = fallback || info.isFallbackAdapter === true || softwareName.test(Object.values(report).join(' '));
  return api === undefined ? { ...report, software } : { ...report, software, api };
}

/** One line for people: `llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 ...), software rasteriser, through OpenGL`. */
export function formatAdapter(adapter: GpuAdapterReport): string {
  const name = [adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' ') || 'unnamed adapter';
  const details = [adapter.description && `(${adapter.description})`].filter(Boolean).join(' ');
  const kind = adapter.software ? ', a software rasteriser, not a GPU' : '';
  const api = adapter.api === 'opengl' ? ', through OpenGL' : '';
  return `${name}${details ? ` ${details}` : ''}${kind}${api}`;
}

/** The message for a synchronous read of a GPU-resident tensor in Node, which the WebGPU backend cannot do. */
export const syncReadMessage =
  'a tensor on the WebGPU backend cannot be read synchronously in Node (dataSync, arraySync, bufferSync, or use on another backend): ' +
  'read it with `await tensor.data()` or `await tensor.array()`, and use the async forms of freia-ts (train.fitAsync, verifyFreiaAsync, ...)';

/** The adapter freia-ts chose for the WebGPU backend in Node, once it set the backend up. */
let chosen: GpuAdapterReport | undefined;

/** The adapter of the WebGPU backend that runs now, as far as tfjs knows it (a browser, or a backend the program registered). */
export function registeredWebGpuAdapter(): GpuAdapterReport | undefined {
  if (chosen) return chosen;
  // Cast: tfjs's WebGPUBackend keeps its adapter's info in `adapterInfo` (vendor and architecture only).
  const info = (tf.findBackend('webgpu') as { adapterInfo?: GpuAdapterInfoLike } | null)?.adapterInfo;
  return info ? describeAdapter(info) : undefined;
}

interface Route {
  readonly api: NonNullable<GpuAdapterReport['api']>;
  readonly options: string[];
  readonly request: object;
}
interface Candidate {
  readonly gpu: GpuLike;
  readonly adapter: GpuAdapterLike;
  readonly report: GpuAdapterReport;
  readonly route: Route;
}

const defaultRoute: Route = { api: 'default', options: [], request: { powerPreference: 'high-performance' } };
const openGlRoute: Route = { api: 'opengl', options: ['backend=opengl'], request: { featureLevel: 'compatibility', powerPreference: 'high-performance' } };

/**
 * Runs `fn` with `EGL_PLATFORM=surfaceless` unless the user set it: Mesa's
 * EGL then needs no X11 or Wayland display. EGL reads it when Dawn opens
 * the display (adapter discovery), so it is restored afterwards.
 */
async function withSurfacelessEgl<T>(fn: () => Promise<T>): Promise<T> {
  const env = nodeProcess()?.env;
  if (!env || env.EGL_PLATFORM !== undefined) return fn();
  env.EGL_PLATFORM = 'surfaceless';
  try {
    return await fn();
  } finally {
    delete env.EGL_PLATFORM;
  }
}

async function tryRoute(dawn: DawnModule, route: Route): Promise<Candidate | string> {
  try {
    const gpu = dawn.create(route.options);
    const adapter = await gpu.requestAdapter(route.request);
    if (!adapter) return `${route.api === 'opengl' ? 'OpenGL through EGL' : "Dawn's default API"}: no adapter`;
    const report = describeAdapter(adapter.info ?? {}, route.api, adapter.isFallbackAdapter === true);
    return { gpu, adapter, report, route };
  } catch (error) {
    return `${route.api}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The Vulkan loader's file name on Linux. */
const VULKAN_LOADER = 'libvulkan.so.1';

/**
 * Whether Linux's dynamic loader can find the Vulkan loader (its cache,
 * /etc/ld.so.cache, or a folder of LD_LIBRARY_PATH). Without it Dawn's
 * default route cannot work, and Dawn says so on stderr from native code
 * ("Couldn't load Vulkan"), under every command that only probed for a GPU;
 * so the route is skipped. When this cannot be told, Dawn tries.
 */
async function vulkanLoaderFound(): Promise<boolean> {
  const fsImport = await importOptional('node:fs');
  if (!fsImport.ok) return true;
  // Cast: node:fs, the two functions used here.
  const fs = fsImport.module as { existsSync(path: string): boolean; readFileSync(path: string): Uint8Array };
  const folders = (nodeProcess()?.env?.LD_LIBRARY_PATH ?? '').split(':').filter((folder) => folder !== '');
  if (folders.some((folder) => fs.existsSync(`${folder}/${VULKAN_LOADER}`))) return true;
  try {
    return new TextDecoder('latin1').decode(fs.readFileSync('/etc/ld.so.cache')).includes(VULKAN_LOADER);
  } catch {
    return true;
  }
}

/** Hardware first; a software adapter only when `explicit`; the reason when there is none. */
async function chooseAdapter(dawn: DawnModule, explicit: boolean): Promise<Candidate | string> {
  const linux = nodeProcess()?.platform === 'linux';
  const software: Candidate[] = [];
  const misses: string[] = [];
  const vulkan = !linux || (await vulkanLoaderFound());
  if (!vulkan) misses.push(`Dawn's default API: no Vulkan loader (${VULKAN_LOADER} is not installed)`);
  const routes = [...(vulkan ? [defaultRoute] : []), ...(explicit && linux ? [openGlRoute] : [])];
  for (const route of routes) {
    const found = await (route.api === 'opengl' ? withSurfacelessEgl(() => tryRoute(dawn, route)) : tryRoute(dawn, route));
    if (typeof found === 'string') misses.push(found);
    else if (!found.report.software) return found;
    else software.push(found);
  }
  if (software.length > 0) {
    if (explicit) return software[0];
    return `only a software adapter: ${formatAdapter(software[0].report)}; freia-ts uses one only when asked to (FREIA_BACKEND=webgpu)`;
  }
  const hint = linux
    ? explicit
      ? ' (a GPU needs its Vulkan driver and the loader, libvulkan1; without a GPU, Mesa serves WebGPU on the CPU through EGL: apt-get install libegl-dev libgl1-mesa-dri)'
      : ' (a GPU needs its Vulkan driver and the loader, libvulkan1; FREIA_BACKEND=webgpu also tries OpenGL through EGL)'
    : '';
  return `Dawn found no GPU adapter: ${misses.join('; ')}${hint}`;
}

/**
 * The limits tfjs's own WebGPU factory asks for (the adapter's, where the
 * defaults are lower), and the storage buffers per shader: tfjs binds every
 * input of a kernel as one, and WebGPU's default allows 8.
 */
const requestedLimits = ['maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];

async function createDevice(candidate: Candidate): Promise<GpuDeviceLike> {
  const make = () => {
    const requiredLimits = Object.fromEntries(requestedLimits.map((name) => [name, candidate.adapter.limits[name]]));
    const requiredFeatures = candidate.adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    return candidate.adapter.requestDevice({ requiredLimits, requiredFeatures });
  };
  return candidate.route.api === 'opengl' ? withSurfacelessEgl(make) : make();
}

/**
 * Runs `make` with `navigator.gpu` present: tfjs's WebGPUBackend checks for
 * it in its constructor. Node 20 has no `navigator`, Node 21+ one without
 * `gpu`; what we add is removed again, so nothing else mistakes Node for a
 * browser.
 */
function withNavigatorGpu<T>(gpu: GpuLike, make: () => T): T {
  // Cast: `navigator` is not in ES2022's globals; in Node 21+ it is an object without `gpu`.
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator?.gpu) return make();
  const added = scope.navigator === undefined;
  if (added) scope.navigator = { gpu };
  else Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  try {
    return make();
  } finally {
    if (added) delete scope.navigator;
    else if (scope.navigator) delete scope.navigator.gpu;
  }
}

/**
 * tfjs's WebGPUBackend, with two changes for Node:
 * - a synchronous read of a GPU buffer, which Node cannot do, throws a
 *   FreiaError that says what to use instead;
 * - an asynchronous read throws when WebGPU reported an error since the last
 *   read (`errors`, filled by the device's `uncapturederror` events): tfjs
 *   pushes no error scopes, so an invalid pipeline (a shader that does not
 *   compile, a kernel over a device limit) otherwise yields garbage numbers
 *   with only Dawn's message on stderr.
 */
function nodeBackendClass(base: WebGpuBackendModule['WebGPUBackend'], errors: string[]): WebGpuBackendModule['WebGPUBackend'] {
  return class NodeWebGpuBackend extends base {
    constructor(device: object, adapterInfo?: object) {
      super(device, adapterInfo);
      // Cast: tfjs's private flag for its one "synchronous reads are slow" warning. In Node they fail
      // (readSync below says why), so that warning would only come first and mislead.
      (this as unknown as { hasReadSyncWarned: boolean }).hasReadSyncWarned = true;
    }

    override readSync(dataId: object): tf.backend_util.BackendValues {
      try {
        return super.readSync(dataId);
      } catch (error) {
        // tfjs reads a GPU buffer synchronously through an OffscreenCanvas, which Node lacks.
        if (error instanceof ReferenceError && error.message.includes('OffscreenCanvas')) throw new FreiaError(syncReadMessage, { cause: error });
        throw error;
      }
    }

    override async read(dataId: object): Promise<tf.backend_util.BackendValues> {
      const values = await super.read(dataId);
      if (errors.length > 0) {
        const reported = errors.splice(0);
        throw new FreiaError(`WebGPU reported ${reported.length === 1 ? 'an error' : `${reported.length} errors`} since the last read, so results may be wrong: ${reported[0]}`);
      }
      return values;
    }
  };
}

/** Adds the WebGPU globals (`GPUBufferUsage`, `GPUMapMode`, ...) that tfjs's WebGPU backend uses, where they are missing. */
function installGlobals(globals: object): void {
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
}

/**
 * Sets up tfjs's WebGPU backend in Node on an adapter chosen as the module
 * comment says, and registers it as `'webgpu'`. `explicit`: WebGPU was asked
 * for by name, so OpenGL and software adapters may serve. Resolves to the
 * adapter, or to why WebGPU cannot be had.
 */
export async function registerNodeWebGpu(explicit: boolean): Promise<{ ok: true; adapter: GpuAdapterReport } | { ok: false; reason: string }> {
  const dawnImport = await importOptional(webgpuPackages.dawn);
  if (!dawnImport.ok) return dawnImport;
  // Cast: the `webgpu` package exports `create` and `globals` (its types.d.ts); we type the part we use.
  const dawn = dawnImport.module as DawnModule;
  const found = await chooseAdapter(dawn, explicit);
  if (typeof found === 'string') return { ok: false, reason: found };
  const backendImport = await importOptional(webgpuPackages.backend);
  if (!backendImport.ok) return backendImport;
  // Cast: @tensorflow/tfjs-backend-webgpu exports its backend class as `WebGPUBackend`.
  const { WebGPUBackend } = backendImport.module as WebGpuBackendModule;
  installGlobals(dawn.globals);
  const device = await createDevice(found);
  const errors: string[] = [];
  device.onuncapturederror = (event) => {
    errors.push((event.error?.message ?? 'unknown WebGPU error').split('\n')[0]);
  };
  const Backend = nodeBackendClass(WebGPUBackend, errors);
  const info = found.adapter.info ?? {};
  // Priority 3, as tfjs's own WebGPU factory: above wasm (2) and cpu (1) for tfjs's automatic choice.
  tf.registerBackend('webgpu', () => withNavigatorGpu(found.gpu, () => new Backend(device, info)), 3);
  chosen = found.report;
  return { ok: true, adapter: found.report };
}
