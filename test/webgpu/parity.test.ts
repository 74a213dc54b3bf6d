/**
 * FrEIA parity on WebGPU: every reference export in test/fixtures/freia
 * reproduces FrEIA's recorded outputs, log-dets and inverse on WebGPU, with
 * verifyFreiaAsync and the same tolerances as on cpu (FrEIA's numbers are
 * the truth here), and `freia-ts verify` does so on WebGPU from the command
 * line (it reads its results asynchronously).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { verifyFreiaAsync } from '../../src/index.js';
import { FIXTURE_COUNT, fixturePath, listFixtures, readFixture } from '../helpers/fixtures.js';

const files = listFixtures();
const root = path.resolve(import.meta.dirname, '..', '..');

describe('FrEIA reference fixtures on WebGPU', () => {
  it('are all there', () => {
    expect(files.length).toBe(FIXTURE_COUNT);
  });

  for (const file of files) {
    it(file, async () => {
      const before = tf.memory().numTensors;
      const report = await verifyFreiaAsync(readFixture(file));
      expect(tf.memory().numTensors).toBe(before);
      expect(report.cases).toBeGreaterThan(0);
      expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
    });
  }

  it('freia-ts verify runs on WebGPU (FREIA_BACKEND=webgpu) and says which adapter', () => {
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'verify', fixturePath('glow_conv'), fixturePath('elementwise_rq_spline')], {
      cwd: root, encoding: 'utf8', env: { ...process.env, FREIA_BACKEND: 'webgpu' },
    });
    expect(result.stdout).toMatch(/^backend webgpu on .+; tolerance/m);
    expect(result.stdout).toContain('2 of 2 files match FrEIA');
    expect(result.status, result.stderr).toBe(0);
  });
});
