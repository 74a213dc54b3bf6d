#!/usr/bin/env node
// Draws the networks of the guides (docs/guides/*.svg) with the library's
// own `flow.toSvg()`, from the same code the guides show. Run after a change
// to those networks or to the pictures' style, and commit the SVGs:
//
//   node scripts/ensure-build.mjs && node scripts/guide-pictures.mjs
//
// test/docs.test.ts imports `guidePictures` with the sources' library and
// checks that the committed SVGs are what it draws now.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The guides' pictured networks, built with the library `lib` (`{ inn, subnets }`):
 * `[file name without .svg, () => flow]`, in the guides' order.
 */
export function guidePictures({ inn, subnets }) {
  /** quickstart.md, "Save, load, look at it". */
  function quickstart() {
    return inn.input([2]).repeat(2, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 16 }) })).build();
  }

  /** concepts.md, "Graphs". */
  function conceptsGraph() {
    const g = inn.graph();
    const image = g.input([16], { name: 'x' });
    const side = g.input([4], { name: 'y' });
    const [a, b] = g.split(image, [8, 8]);
    const mixed = g.glow(g.concat([b, side]), { subnet: subnets.mlp({ hidden: 16 }), name: 'mix' });
    return g.build({ inputs: [image, side], outputs: [a, mixed] });
  }

  /** multi-scale.md, "A small multi-scale network". */
  function multiScale() {
    return inn.input([1, 8, 8])
      .haarDownsample()
      .repeat(2, (c) => c.glow({ subnet: subnets.conv({ hidden: 16, kernel: 3 }), clamp: 1.2 }).permuteRandom())
      .split([2, 2])
      .on(1, (s) => s
        .haarDownsample()
        .repeat(2, (c) => c.glow({ subnet: subnets.conv({ hidden: 16, kernel: 1 }), clamp: 1.2 }).permuteRandom())
        .flatten()
        .glow({ subnet: subnets.mlp({ hidden: 32 }), clamp: 2 }))
      .build();
  }

  /** conditional.md, "Conditions in graphs". */
  function conditional() {
    const g = inn.graph();
    const x = g.input([8], { name: 'x' });
    const label = g.condition([10], { name: 'label' });
    const style = g.condition([4], { name: 'style' });
    const [a, b] = g.split(x, [4, 4]);
    const a1 = g.glow(a, { subnet: subnets.mlp({ hidden: 16 }), cond: label, name: 'glow_a' });
    const b1 = g.glow(b, { subnet: subnets.mlp({ hidden: 16 }), cond: style, name: 'glow_b' });
    const z = g.allInOne(g.concat([a1, b1]), { subnet: subnets.mlp({ hidden: 16 }), cond: label, name: 'mix' });
    return g.build({ inputs: [x], conditions: [label, style], outputs: [z] });
  }

  return [['quickstart', quickstart], ['concepts-graph', conceptsGraph], ['multi-scale', multiScale], ['conditional', conditional]];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const lib = await import('../dist/index.js');
  await lib.ready();
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'guides');
  for (const [name, build] of guidePictures(lib)) {
    const flow = build();
    writeFileSync(path.join(out, `${name}.svg`), await flow.toSvg(name));
    flow.dispose();
    console.log(`docs/guides/${name}.svg`);
  }
}
