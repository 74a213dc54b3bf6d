/**
 * A verifier that can fail (issue 13): a FrEIA export passes `verifyFreia`
 * only if something was checked, and a failure says where: the case and
 * tensor that is malformed, the parameter changed since the export (by its
 * recorded CRC-32), the first node whose outputs differ (by the recorded
 * per-node outputs).
 */
import * as tf from '@tensorflow/tfjs';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { importFreia, verifyFreia, verifyFreiaAsync, type FreiaDocument, type FreiaTensor } from '../src/index.js';
import { crc32, crc32Hex } from '../src/core/checksum.js';
import { readFixture } from './helpers/fixtures.js';

/** A deep, writable copy of a fixture. */
type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };
const fixture = (name: string) => structuredClone(readFixture(name)) as Mutable<FreiaDocument>;

/** Runs `verify` and checks it freed every tensor and variable it made. */
function verifyLeavingNothing(doc: unknown) {
  const before = tf.memory().numTensors;
  const variables = Object.keys(tf.engine().registeredVariables).length;
  const report = verifyFreia(doc as FreiaDocument);
  expect(tf.memory().numTensors).toBe(before);
  expect(Object.keys(tf.engine().registeredVariables).length).toBe(variables);
  return report;
}

/** zlib's CRC-32 (the independent truth) of a parameter as the format defines its bytes. */
function zlibCrcOf(t: FreiaTensor): string {
  const integer = t.dtype === 'int64' || t.dtype === 'int32';
  const bytes = t.dtype === 'bool' ? Uint8Array.from(t.data) : new Uint8Array((integer ? Int32Array.from(t.data) : Float32Array.from(t.data)).buffer);
  return zlibCrc32(bytes).toString(16).padStart(8, '0');
}

describe('CRC-32', () => {
  it('gives the standard check value and agrees with zlib on random bytes', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919 + 13) % 256);
    expect(crc32Hex(bytes)).toBe(zlibCrc32(bytes).toString(16).padStart(8, '0'));
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('verifyFreia refuses to pass what it did not check', () => {
  it('a file with no cases, or cases: [], fails', () => {
    for (const cases of [undefined, []]) {
      const doc = fixture('glow_fc');
      if (cases === undefined) delete doc.cases;
      else doc.cases = cases;
      const report = verifyLeavingNothing(doc);
      expect(report.ok).toBe(false);
      expect(report.cases).toBe(0);
      expect(report.problems.join('\n')).toContain('the file records no evaluations');
    }
  });

  it('an emptied reference array fails, naming the case and the tensor', () => {
    const doc = fixture('glow_fc');
    doc.cases![1].outputs[0].data = [];
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.problems).toContain('cases[1].outputs[0].data: expected 14 numbers for shape [2, 7], got 0');
    // The other case still ran, and matched.
    expect(report.cases).toBe(1);
    expect(report.outputs.error).toBeLessThan(1e-4);
  });

  it('a case emptied consistently (batch 0) and a case of the wrong shape fail', () => {
    const doc = fixture('glow_fc');
    for (const field of ['inputs', 'outputs', 'rev_inputs'] as const) doc.cases![0][field] = [{ shape: [0, 7], data: [] }];
    doc.cases![0].log_jac_det = { shape: [0], data: [] };
    doc.cases![0].rev_log_jac_det = { shape: [0], data: [] };
    doc.cases![1].log_jac_det = { shape: [2, 2], data: [0, 0, 0, 0] };
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.cases).toBe(0);
    expect(report.problems).toContain('cases[0].inputs[0]: expected at least one sample, got shape [0, 7]');
    expect(report.problems).toContain('cases[1].log_jac_det: expected shape [2] (batch 2, as in cases[1].inputs[0]), got [2, 2]');
  });

  it('a case with the wrong number of tensors, or not a case at all, fails', () => {
    const doc = fixture('glow_fc');
    (doc.cases as unknown[])[0] = 'nope';
    doc.cases![1].inputs = [];
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/^cases\[0\]: expected \{ inputs, .*got "nope"/);
    expect(report.problems).toContain('cases[1].inputs: expected 1 tensor(s), one per node ("in0"), got 0');
  });

  it('unknown constructor arguments are refused, as FrEIA raises', () => {
    const doc = fixture('glow_fc');
    const node = doc.graph.nodes[1] as { args: Record<string, unknown> };
    node.args.clampp = 2;
    expect(() => verifyFreia(doc)).toThrow(/option "clampp".*did you mean "clamp"/);
  });
});

describe('a mismatch says where', () => {
  /** The fixture with every parameter's CRC-32 recorded, computed by zlib. */
  function withChecksums(name: string) {
    const doc = fixture(name);
    doc.param_crc32 = Object.fromEntries(Object.entries(doc.params).map(([key, t]) => [key, zlibCrcOf(t)]));
    return doc;
  }

  it('recorded CRC-32s that agree pass (ours match zlib\'s on every parameter of every dtype)', () => {
    for (const name of ['glow_fc', 'permute_random', 'actnorm', 'graph_readme']) {
      const report = verifyLeavingNothing(withChecksums(name));
      expect(report, JSON.stringify(report.problems)).toMatchObject({ ok: true, problems: [] });
    }
  });

  it('a weight changed since the export names its parameter and node', () => {
    const doc = withChecksums('graph_moons');
    const key = 'module_list.5.subnet.2.weight' in doc.params ? 'module_list.5.subnet.2.weight' : Object.keys(doc.params).filter((k) => k.startsWith('module_list.5.'))[0];
    doc.params[key].data[3] += 0.5;
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.problems.find((p) => p.startsWith('parameter'))).toMatch(new RegExp(`^parameter "${key.replace(/\./g, '\\.')}" of node "block5" has changed since the export \\(CRC-32 [0-9a-f]{8}, recorded [0-9a-f]{8}\\)$`));
  });

  /**
   * The fixture with each block's output recorded, as an exporter would record FrEIA's. Each is
   * computed by importing the document cut after that block (public API, not the verifier's
   * per-node path); the parity tests establish that these match FrEIA's to 1e-4.
   */
  function withNodeRecords(name: string) {
    const doc = fixture(name);
    const modules = doc.graph.nodes.filter((n) => n.kind === 'module') as { name: string; param_prefix: string; output_shapes: number[][] }[];
    doc.cases!.forEach((c) => (c.nodes = {}));
    modules.forEach((node, k) => {
      const prefixes = modules.slice(0, k + 1).map((m) => m.param_prefix);
      const cut: FreiaDocument = {
        format: 'freia-reference/1',
        name: `${name}_to_${node.name}`,
        graph: { nodes: [...doc.graph.nodes.slice(0, doc.graph.nodes.indexOf(node as never) + 1), { kind: 'output', name: 'cut', inputs: [[node.name, 0]], shape: node.output_shapes[0] }] },
        params: Object.fromEntries(Object.entries(doc.params).filter(([key]) => prefixes.some((p) => key.startsWith(p)))),
      };
      const flow = importFreia(cut);
      doc.cases!.forEach((c) => {
        const x = tf.tensor(c.inputs[0].data as number[], c.inputs[0].shape as number[]);
        const { out: result, logDet } = flow.forward(x);
        const out = result as tf.Tensor; // one output node: a lone tensor
        c.nodes![node.name] = [{ shape: [...out.shape], data: Array.from(out.dataSync()) }];
        tf.dispose([x, out, logDet]);
      });
      flow.dispose();
    });
    return doc;
  }

  it('names the first node whose outputs differ, from the recorded per-node outputs', async () => {
    const doc = withNodeRecords('graph_moons');
    expect(verifyLeavingNothing(doc)).toMatchObject({ ok: true, problems: [] });
    const key = Object.keys(doc.params).find((k) => k.startsWith('module_list.5.') && doc.params[k].data.length > 1)!;
    doc.params[key].data[0] += 1;
    for (const report of [verifyLeavingNothing(doc), await verifyFreiaAsync(doc as FreiaDocument)]) {
      expect(report.ok).toBe(false);
      expect(report.problems).toHaveLength(1);
      expect(report.problems[0]).toMatch(/^cases\[0\]: the first node whose outputs differ from FrEIA's is "block5" \(AllInOneBlock\), off by \S+ given FrEIA's recorded inputs of it; its parameters: .*"module_list\.5\./);
    }
  });

  it('without per-node records, says that the node cannot be named', () => {
    const doc = fixture('graph_moons');
    const key = Object.keys(doc.params).find((k) => k.startsWith('module_list.5.') && doc.params[k].data.length > 1)!;
    doc.params[key].data[0] += 1;
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['cases[0]: the outputs differ, and the file records no per-node outputs (cases[].nodes) to tell which node differs']);
  });

  it('malformed node records and checksums are problems, not crashes', () => {
    const doc = withNodeRecords('glow_fc');
    doc.cases![0].nodes!.nope = [];
    doc.cases![1].nodes!.b0 = [{ shape: [4, 6], data: Array(24).fill(0) }];
    doc.param_crc32 = { 'module_list.0.missing': '00000000', 'module_list.0.subnet1.0.bias': 'xyz' };
    const report = verifyLeavingNothing(doc);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'cases[0].nodes["nope"]: no module node of that name',
      'cases[1].nodes["b0"][0]: expected shape [2, 7] (batch 2, as in cases[1].inputs[0]), got [4, 6]',
      'param_crc32["module_list.0.missing"]: the file has no parameter "module_list.0.missing"',
      'param_crc32["module_list.0.subnet1.0.bias"]: expected 8 hex digits, got "xyz"',
    ]);
  });
});
