/**
 * The catalogue is the one place a module is declared: every kind in it
 * has a row in the module table (or a reason it cannot), an `Fm` name, a
 * README row, builder methods on every face, and no class-level shape rule
 * that could disagree with its entry's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Fm, GraphINN, InputNode, Node, OutputNode, SequenceINN, catalogue, inn, shapeChanging, shapeKeeping, setGlobalSeed } from '../src/index.js';
import { moduleTable } from './cases/index.js';

/** Kinds that cannot join the table of invertible modules, and why. */
const notInTable: Readonly<Record<string, string>> = {
  InvAutoFC: 'not invertible except for orthogonal weights (as in FrEIA); test/inv-auto.test.ts tests what it promises',
  InvAutoConv2D: 'not invertible except for orthogonal convolutions (as in FrEIA); test/inv-auto.test.ts tests what it promises',
};

const kinds = Object.values(catalogue).map((entry) => entry.kind);

function tableKinds(): Set<string> {
  const seen = new Set<string>();
  setGlobalSeed(0);
  for (const row of moduleTable) {
    const flow = row.build();
    for (const node of flow.graph.nodes) if (node.kind === 'module') seen.add(node.module.kind);
    flow.dispose();
  }
  return seen;
}

describe('the catalogue', () => {
  it('lists each kind once, under one method', () => {
    expect(new Set(kinds).size).toBe(kinds.length);
    expect(Object.keys(shapeKeeping).filter((m) => m in shapeChanging)).toEqual([]);
    expect(kinds.length).toBe(40);
  });

  it('every kind has a row in the module table, or a reason it cannot', () => {
    const before = tf.memory().numTensors;
    const seen = tableKinds();
    expect(tf.memory().numTensors).toBe(before);
    const missing = kinds.filter((kind) => !seen.has(kind) && !(kind in notInTable));
    expect(missing).toEqual([]);
    // An excluded kind that has a row after all should lose its exclusion.
    expect(Object.keys(notInTable).filter((kind) => seen.has(kind))).toEqual([]);
  });

  it('every kind has its FrEIA name in Fm, and Fm has nothing else', () => {
    expect(Object.keys(Fm).sort()).toEqual([...kinds].sort());
    for (const [name, kind] of Object.entries(Fm)) expect(kind).toBe(name);
  });

  it('every kind and method has a row in the README module table', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Modules'));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(0);
    for (const [method, entry] of Object.entries(catalogue)) {
      expect(rows.some((row) => row.includes(`\`${method}\``) && row.includes(entry.kind)), `${method} / ${entry.kind}`).toBe(true);
    }
  });

  it('every shape-keeping entry is a method of the chain and of the graph builder', () => {
    const chain = inn.input([4]) as unknown as Record<string, unknown>;
    const graph = inn.graph() as unknown as Record<string, unknown>;
    for (const method of [...Object.keys(shapeKeeping), ...Object.keys(shapeChanging)]) {
      expect(typeof chain[method], `chain.${method}`).toBe('function');
      expect(typeof graph[method], `graph.${method}`).toBe('function');
    }
  });

  it('built-in modules have no class-level shape rule that could disagree with their entry', () => {
    setGlobalSeed(0);
    for (const row of moduleTable) {
      const flow = row.build();
      for (const module of flow.modules) {
        if (module) expect(module.outputShapes, `${row.name}: ${module.constructor.name}`).toBeUndefined();
      }
      flow.dispose();
    }
  });

  it("every face copies the caller's options, so freezing a definition leaves them alone", () => {
    const M = [[2, 0], [0, 3]];
    const freiaStyle = () => {
      const inp = new InputNode(2);
      const node = new Node(inp, Fm.FixedLinearTransform, { M });
      return new GraphINN([inp, node, new OutputNode(node)]).flow;
    };
    const sequence = new SequenceINN(2).append(Fm.FixedLinearTransform, { M });
    const flows = [
      inn.input([2]).fixedLinear({ M }).build(),
      (() => {
        const g = inn.graph();
        return g.build({ outputs: [g.fixedLinear(g.input([2]), { M })] });
      })(),
      freiaStyle(),
      sequence.flow,
    ];
    expect(Object.isFrozen(M)).toBe(false);
    expect(Object.isFrozen(M[0])).toBe(false);
    M[0][0] = 5;
    for (const flow of flows) {
      const node = flow.graph.nodes.find((n) => n.kind === 'module');
      expect(node?.kind === 'module' && (node.module.args as { M: number[][] }).M[0][0]).toBe(2);
      flow.dispose();
    }
  });
});
