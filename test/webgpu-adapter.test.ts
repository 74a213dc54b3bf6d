/**
 * How freia-ts judges a WebGPU adapter (src/runtime/webgpu.ts): software
 * rasterisers are recognised by name or by Dawn's fallback flag, and the
 * report reads as one line. Which adapter ready() picks on this machine is
 * tested by test/backend-select.test.ts (auto: never a software one) and by
 * the WebGPU lane (test/webgpu, FREIA_BACKEND=webgpu).
 */
import { describe, expect, it } from 'vitest';
import { describeAdapter, formatAdapter } from '../src/runtime/webgpu.js';

describe('WebGPU adapters', () => {
  it('recognises software rasterisers by name or by the fallback flag, and GPUs as hardware', () => {
    const llvmpipe = describeAdapter({ vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6' }, 'opengl');
    expect(llvmpipe).toEqual({ vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6', software: true, api: 'opengl' });
    expect(describeAdapter({ vendor: 'google', device: 'SwiftShader Device (Subzero)' }).software).toBe(true);
    expect(describeAdapter({ device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa 22.3.6 (lavapipe)' }).software).toBe(true);
    expect(describeAdapter({ vendor: 'microsoft', device: 'Microsoft Basic Render Driver' }).software).toBe(true);
    expect(describeAdapter({ vendor: 'nvidia', device: 'Some GPU', isFallbackAdapter: true }).software).toBe(true);
    expect(describeAdapter({ vendor: 'nvidia', device: 'Some GPU' }, 'default', true).software).toBe(true);
    const gpu = describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA: 550.54' }, 'default');
    expect(gpu.software).toBe(false);
    expect(describeAdapter({ vendor: 'intel', architecture: 'gen-12lp', device: 'Intel(R) Iris(R) Xe Graphics' }).software).toBe(false);
  });

  it('formats an adapter as one line', () => {
    expect(formatAdapter(describeAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6' }, 'opengl')))
      .toBe('llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 (Core Profile) Mesa 22.3.6), a software rasteriser, not a GPU, through OpenGL');
    expect(formatAdapter(describeAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: '' }, 'default'))).toBe('nvidia hopper NVIDIA H200');
    expect(formatAdapter(describeAdapter({}))).toBe('unnamed adapter');
  });
});
