/** Pictures of a network: DOT, Mermaid, and SVG through the `freia-ts graph` command. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath, readFixture } from './helpers/fixtures.js';
import { writeFileSync } from 'node:fs';
import { inn, subnets, freiaGraph, toDot, toMermaid, type FreiaDocument } from '../src/index.js';
import { saveFlowFile } from '../src/node/index.js';

const root = path.resolve(import.meta.dirname, '..');
// Read inside the tests that draw it, so a missing fixture fails only those.
const readme = () => readFixture('graph_readme');
const namesOf = (doc: FreiaDocument) => doc.graph.nodes.map((n) => n.name);

const scratch: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'freia-graph-'));
  scratch.push(dir);
  return dir;
};
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('pictures', () => {
  it('DOT shows every node with its kind, shapes on the edges, dashed conditions', () => {
    const doc = readme();
    const dot = toDot(freiaGraph(doc), 'readme');
    for (const name of namesOf(doc)) expect(dot).toContain(`"${name}\\n`);
    expect(dot).toContain('affine\\nAffineCouplingOneSided');
    expect(dot).toMatch(/-> n\d+ \[label="\[42\]", style=dashed\]/);
    expect(dot).toContain('label="1: [25]"');
    expect(dot).toContain('label="[45]"');
  });

  it('Mermaid has the same nodes and edges', () => {
    const doc = readme();
    const mermaid = toMermaid(freiaGraph(doc));
    expect(mermaid.startsWith('flowchart TD')).toBe(true);
    for (const name of namesOf(doc)) expect(mermaid).toContain(`"${name}<br/>`);
    expect(mermaid).toContain('-. "[42]" .->');
    expect(mermaid.split('\n').filter((l) => l.includes('-->') || l.includes('.->'))).toHaveLength(12);
  });

  it('a flow built here draws itself', () => {
    const flow = inn.input([4]).condition([2]).glow({ subnet: subnets.mlp({ hidden: 8 }), cond: 0, name: 'coupling' }).build();
    expect(flow.toDot()).toContain('"coupling\\nGLOWCouplingBlock"');
    expect(flow.toMermaid()).toContain('"coupling<br/>GLOWCouplingBlock"');
    flow.dispose();
  });

  it('freia-ts graph FILE -o graph.svg writes an SVG that names every node', () => {
    const fixture = fixturePath('graph_readme');
    const names = namesOf(readme());
    const out = path.join(tempDir(), 'graph.svg');
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'graph', fixture, '-o', out], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg).toContain('<svg');
    for (const name of names) expect(svg).toMatch(new RegExp(`>${name}</text>`));
    expect(svg).toContain('>AffineCouplingOneSided</text>');
    expect(svg).toContain('stroke-dasharray');
  });

  it('freia-ts graph also draws a model saved with saveFlowFile (the directory or its model.json)', async () => {
    const flow = inn.input([4]).condition([2]).glow({ subnet: subnets.mlp({ hidden: 8 }), cond: 0, name: 'coupling' }).actNorm({ name: 'norm' }).build();
    const dir = tempDir();
    await saveFlowFile(flow, path.join(dir, 'saved'));
    flow.dispose();
    for (const target of [path.join(dir, 'saved'), path.join(dir, 'saved', 'model.json')]) {
      const result = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'graph', target, '-o', path.join(dir, 'saved.mmd')], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      const mermaid = readFileSync(path.join(dir, 'saved.mmd'), 'utf8');
      expect(mermaid).toContain('"coupling<br/>GLOWCouplingBlock"');
      expect(mermaid).toContain('"norm<br/>ActNorm"');
      expect(mermaid).toContain('-. "[2]" .->');
      const dot = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'graph', target], { encoding: 'utf8' });
      expect(dot.stdout).toMatch(/^digraph "saved"/);
    }
  });

  it('freia-ts graph draws a freia-ts/1 file of earlier versions, and names what is wrong with other JSON', () => {
    const saved = path.join(root, 'test', 'fixtures', 'saved', 'custom-modules.json');
    const result = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'graph', saved], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('conditional_swap\\nConditionalSwap');
    const dir = tempDir();
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
    const bad = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'main.js'), 'graph', path.join(dir, 'other.json')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('modelTopology: missing');
  });
});
