/**
 * python/freia_export.py, FrEIA's side of freia-reference/1:
 *
 * - always: the Python files parse (when a Python is found), the exporter
 *   needs nothing beyond torch and FrEIA, and what it can describe (module
 *   classes, subnet layer types) is what the importer reads;
 * - where FrEIA and torch are available (FREIA_SRC naming FrEIA's source,
 *   FREIA_PYTHON or /usr/bin/python3 importing torch): FrEIA networks built
 *   in Python (python/roundtrip_networks.py) are exported with recorded
 *   evaluations, imported here and verified to 1e-5, the exports that must
 *   fail name node and layer, and python/make_fixtures.py's fixtures, written
 *   anew, still verify.
 *
 * Without FrEIA or torch the round trip is not skipped silently: its test
 * says so in its own name, `FrEIA round trip: skipped (<reason>)`, and
 * prints the same line; the reason is checked (as `npm run bench` reports
 * `{ "freia": "skipped", "reason" }`), so the run shows what was not tested.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogue, importFreia, verifyFreia, type FreiaDocument } from '../src/index.js';
import { SEQUENTIAL_LAYER_TYPES } from '../src/modules/sequential-subnet.js';
import { defaultFixturesDir } from './helpers/fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
const pythonDir = path.join(root, 'python');
const exporter = path.join(pythonDir, 'freia_export.py');
const source = readFileSync(exporter, 'utf8');

/** The Python to use: FREIA_PYTHON when set (and then only it), else Debian's /usr/bin/python3 (whose torch is python3-torch), else python3 on the PATH. */
function findPython(): string | undefined {
  const candidates = process.env.FREIA_PYTHON ? [process.env.FREIA_PYTHON] : ['/usr/bin/python3', 'python3'];
  return candidates.find((p) => spawnSync(p, ['-c', 'pass'], { encoding: 'utf8' }).status === 0);
}
const python = findPython();

/** Why the round trip cannot run here, or undefined when it can. */
function roundTripUnavailable(): string | undefined {
  const src = process.env.FREIA_SRC;
  if (!src) return 'FREIA_SRC is not set (the folder holding FrEIA/, e.g. a clone of github.com/vislearn/FrEIA)';
  if (!existsSync(path.join(src, 'FrEIA', 'framework'))) return `FREIA_SRC is ${src}, which holds no FrEIA/framework`;
  if (!python) return process.env.FREIA_PYTHON ? `FREIA_PYTHON (${process.env.FREIA_PYTHON}) could not be started` : 'no Python found (tried /usr/bin/python3 and python3; FREIA_PYTHON names another)';
  const probe = spawnSync(python, ['-c', 'import torch, FrEIA.framework'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: src } });
  if (probe.status !== 0) return `${python} cannot import torch and FrEIA: ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  return undefined;
}
const unavailable = roundTripUnavailable();

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Runs a Python script of python/ with FrEIA on the path, writing into a fresh temp folder. */
/** Every number a document's recorded evaluations hold, in a fixed order (shapes included, so a changed shape shows). */
function recordedNumbers(doc: FreiaDocument): number[] {
  const numbers: number[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'number') numbers.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') for (const key of Object.keys(value).sort()) walk((value as Record<string, unknown>)[key]);
  };
  walk(doc.cases ?? []);
  return numbers;
}

function runPython(script: string): string {
  const out = mkdtempSync(path.join(tmpdir(), 'freia-export-'));
  scratch.push(out);
  const result = spawnSync(python!, [path.join(pythonDir, script), out], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`${script} failed (${result.status}):\n${result.stderr}`);
  return out;
}

function verified(doc: FreiaDocument) {
  const before = tf.memory().numTensors;
  const report = verifyFreia(doc);
  expect(tf.memory().numTensors).toBe(before);
  return report;
}

describe('python/freia_export.py', () => {
  it(`parses${python ? ` (${python})` : ': no Python found, checked as text only'}, with make_fixtures.py and roundtrip_networks.py`, () => {
    for (const file of ['freia_export.py', 'make_fixtures.py', 'roundtrip_networks.py']) {
      expect(existsSync(path.join(pythonDir, file))).toBe(true);
      if (!python) continue;
      // py_compile without writing a .pyc: compile() is what py_compile runs.
      const check = spawnSync(python, ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', path.join(pythonDir, file)], { encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  it('needs nothing beyond torch and FrEIA (numpy comes with both), and has the documented entry points', () => {
    const code = source.slice(source.indexOf('"""', 3) + 3); // after the module docstring, whose example imports the exporter
    const imports = [...code.matchAll(/^\s*(?:import (\S+)|from (\S+) import)/gm)].map((m) => (m[1] ?? m[2]).split('.')[0]);
    expect(new Set(imports)).toEqual(new Set(['json', 'zlib', 'numpy', 'torch', 'FrEIA']));
    expect(source).toMatch(/^def export\(inn, path, inputs=None, conditions=None, name=None[,)]/m);
    expect(source).toMatch(/^class ExportError\(Exception\):/m);
    expect(source).toContain('FORMAT = "freia-reference/1"');
  });

  it('describes only module classes the importer knows, and subnet layers the importer reads', () => {
    const table = source.slice(source.indexOf('MODULES = {'), source.indexOf('}\n', source.indexOf('MODULES = {')));
    const described = [...table.matchAll(/^\s+"(\w+)": \(/gm)].map((m) => m[1]);
    expect(described.length).toBeGreaterThan(20);
    const kinds = new Set<string>(Object.values(catalogue).map((entry) => entry.kind));
    expect(described.filter((kind) => !kinds.has(kind))).toEqual([]);
    const supported = /SUPPORTED_LAYERS = "([^"]+)"/.exec(source)![1];
    expect(supported.replace('BatchNorm1d/2d', 'BatchNorm1d, BatchNorm2d').split(', ')).toEqual([...SEQUENTIAL_LAYER_TYPES]);
  });

  const title = unavailable ? `FrEIA round trip: skipped (${unavailable})` : 'FrEIA round trip: networks exported in Python import and verify to 1e-5';
  it(title, () => {
    if (unavailable) {
      console.warn(title);
      // Not a silent pass: the reason is one of those this file knows, and it is in the test's name.
      expect(unavailable).toMatch(/^(FREIA_SRC is not set|FREIA_SRC is .*, which holds no FrEIA|no Python found|FREIA_PYTHON \(.*\) could not be started|.* cannot import torch and FrEIA)/);
      return;
    }
    const out = runPython('roundtrip_networks.py');
    const files = readdirSync(out).filter((f) => f.endsWith('.json') && f !== 'errors.json').sort();
    expect(files).toEqual(['graph_split_conditions.json', 'sequence_all_in_one.json', 'sequence_conv.json']);
    for (const file of files) {
      const doc = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as FreiaDocument;
      const report = verified(doc);
      expect({ file, problems: report.problems, ok: report.ok }).toEqual({ file, problems: [], ok: true });
      expect(report.cases).toBeGreaterThanOrEqual(1);
      for (const d of [report.outputs, report.inputs, report.logDet, report.reverseLogDet]) expect(d.error / Math.max(1, d.scale)).toBeLessThan(1e-5);
    }
    const kinds = files.flatMap((file) => (JSON.parse(readFileSync(path.join(out, file), 'utf8')) as FreiaDocument).graph.nodes)
      .flatMap((n) => (n.kind === 'module' && n.subnet ? [n.subnet.kind] : []));
    expect(new Set(kinds)).toEqual(new Set(['mlp', 'sequential']));
    const errors = JSON.parse(readFileSync(path.join(out, 'errors.json'), 'utf8')) as Record<string, string | null>;
    expect(errors.gelu).toBe("node 'b0', subnet 'subnet1', layer 1: nn.GELU cannot be described; supported: Linear, Conv2d, ReLU, LeakyReLU, Tanh, Sigmoid, Dropout, BatchNorm1d/2d");
    expect(errors.not_sequential).toContain("node 'b0', subnet 'subnet_s1': nn.Linear is not an nn.Sequential");
    expect(errors.missing_condition).toBe('inputs=/conditions=: the network takes 1 condition(s) (c0 [2]), got 0');
    expect(errors.unsupported_module).toMatch(/^node 'b0': module class Doubling cannot be exported; the exporter describes ActNorm, .*, Split and Inverse$/);
  }, 300_000);

  it(unavailable ? `make_fixtures.py with export: skipped (${unavailable})` : 'make_fixtures.py, now written with export, reproduces its fixtures: same graph, parameters and recordings; they verify', () => {
    if (unavailable) {
      console.warn(`make_fixtures.py with export: skipped (${unavailable})`);
      expect(unavailable).toBeTruthy();
      return;
    }
    const out = runPython('make_fixtures.py');
    const written = readdirSync(out).sort();
    expect(written).toEqual(['inverse_glow.json', 'inverse_rq_spline.json', 'linear_spline.json', 'linear_spline_cond.json', 'linear_spline_conv.json', 'linear_spline_identity_tails.json']);
    for (const file of written) {
      const fresh = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as FreiaDocument;
      const shipped = JSON.parse(readFileSync(path.join(defaultFixturesDir, file), 'utf8')) as FreiaDocument;
      expect(verified(fresh).ok).toBe(true);
      // The arguments are read off the modules now (split_len as FrEIA resolved it); the graph and the parameters are as
      // shipped, bit for bit. The recordings are torch's float32 arithmetic, whose rounding differs between CPUs
      // (vector units, BLAS): equal to 1e-5 relative to max(1, |value|).
      const withoutRecordings = (doc: FreiaDocument) => JSON.stringify({ ...doc, cases: undefined, graph: { nodes: doc.graph.nodes.map((n) => (n.kind === 'module' ? { ...n, args: undefined } : n)) } });
      expect(withoutRecordings(fresh)).toBe(withoutRecordings(shipped));
      expect(recordedNumbers(fresh).length).toBe(recordedNumbers(shipped).length);
      const shippedNumbers = recordedNumbers(shipped);
      const largest = Math.max(...recordedNumbers(fresh).map((v, i) => Math.abs(v - shippedNumbers[i]) / Math.max(1, Math.abs(shippedNumbers[i]))));
      expect(largest, file).toBeLessThan(1e-5);
      const imported = importFreia(fresh);
      imported.dispose();
    }
  }, 300_000);
});
