/**
 * Property tests (issue 13, deliverable 6), with fast-check:
 * - random valid networks (chains and graphs with splits, concats,
 *   conditions, reshapes and down/upsampling, from every exactly invertible
 *   catalogue module) invert to 1e-4, their log-det equals the autodiff
 *   Jacobian's to 1e-3, and they survive save → load bit-exactly;
 * - random corruptions of valid saved flows and FrEIA documents are either
 *   harmless (the flow loads and runs) or refused with a typed error, and
 *   nothing is left allocated either way.
 *
 * `FREIA_PROPERTY_RUNS=<factor>` multiplies every property's number of runs
 * (default 1: 3,400 cases in all, about 20 s); `FREIA_PROPERTY_SEED=<n>` replays a
 * seed. fast-check prints the seed and the shrunk counterexample of a failure.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { saveFlow, loadFlow, memoryHandler, importFreia, FreiaError, setGlobalSeed, type AnyFlow, type FlowDocument, type FreiaDocument } from '../src/index.js';
import { autodiffLogDet, maxAbsDiff } from './helpers/jacobian.js';
import { fixturesDir } from './helpers/fixtures.js';
import { buildRecipe, recipes } from './helpers/random-networks.js';

const factor = Number(process.env.FREIA_PROPERTY_RUNS ?? 1);
const seed = process.env.FREIA_PROPERTY_SEED === undefined ? undefined : Number(process.env.FREIA_PROPERTY_SEED);
const runs = (n: number) => ({ numRuns: Math.max(1, Math.round(n * factor)), ...(seed === undefined ? {} : { seed }) });

const allocated = () => ({ tensors: tf.memory().numTensors, variables: Object.keys(tf.engine().registeredVariables).length });

/** Random inputs (and conditions) for a flow, reproducible from `seed`. */
function inputsFor(flow: AnyFlow, batch: number, seed: number): { xs: tf.Tensor[]; cs: tf.Tensor[] } {
  return {
    xs: flow.inputShapes.map((s, k) => tf.randomNormal([batch, ...s], 0, 1, 'float32', seed + k)),
    cs: flow.conditionShapes.map((s, k) => tf.randomNormal([batch, ...s], 0, 1, 'float32', seed + 100 + k)),
  };
}
const list = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t : [t]);
const bytesOf = async (t: tf.Tensor) => new Uint8Array((await t.data()).buffer.slice(0));

describe('random valid networks', () => {
  it('invert to 1e-4, log-det = autodiff log|det J| to 1e-3, and survive save → load bit-exactly', async () => {
    await fc.assert(
      fc.asyncProperty(recipes, fc.nat(10_000), async (recipe, dataSeed) => {
        setGlobalSeed(dataSeed);
        const flow = buildRecipe(recipe);
        const { xs, cs } = inputsFor(flow, 3, dataSeed);
        const x = xs.length === 1 ? xs[0] : xs;
        try {
          const first = flow.forward(x, { c: cs }); // ActNorm's data-dependent initialisation
        tf.dispose([...list(first.out), first.logDet]);
          const before = allocated();
          const fwd = flow.forward(x, { c: cs });
          const inv = flow.inverse(fwd.out, { c: cs });
          list(inv.out).forEach((back, k) => {
            const scale = Math.max(1, tf.tidy(() => tf.max(tf.abs(xs[k])).dataSync()[0]));
            expect(maxAbsDiff(back, xs[k])).toBeLessThan(1e-4 * scale);
          });
          expect(tf.tidy(() => maxAbsDiff(inv.logDet, tf.neg(fwd.logDet)))).toBeLessThan(1e-3);
          if (xs.length === 1) {
            const truth = autodiffLogDet(flow, xs[0], cs);
            Array.from(await fwd.logDet.data()).forEach((v, b) => expect(Math.abs(v - truth[b])).toBeLessThan(1e-3 * Math.max(1, Math.abs(truth[b]))));
          }
          tf.dispose([...list(fwd.out), fwd.logDet, ...list(inv.out), inv.logDet]);
          expect(allocated()).toEqual(before);

          const store = memoryHandler();
          await saveFlow(flow, store);
          const loaded = await loadFlow(store);
          try {
            const [a, b] = [flow.forward(x, { c: cs }), loaded.forward(x, { c: cs })];
            for (const [p, q] of [...list(a.out).map((t, k) => [t, list(b.out)[k]]), [a.logDet, b.logDet]]) expect(await bytesOf(q)).toEqual(await bytesOf(p));
            tf.dispose([...list(a.out), ...list(b.out), a.logDet, b.logDet]);
          } finally {
            loaded.dispose();
          }
        } finally {
          tf.dispose([...xs, ...cs]);
          flow.dispose();
        }
      }),
      runs(200),
    );
  });
});

// ------------------------------------------------------------ corruptions ----

type Json = unknown;
/** A path into a JSON value: object keys and array indices. */
type JsonPath = readonly (string | number)[];

/** Every path to a value inside `value` (the root excluded). */
function pathsOf(value: Json, prefix: JsonPath = []): JsonPath[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

/** The values a corruption puts somewhere: wrong types, out-of-range and non-finite numbers, huge sizes. */
const badValues: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(null, undefined, true, '', 'abc', '__proto__', [], {}, [[]], { node: 0 }, NaN, Infinity, -Infinity, -1, 0, 1, 2, 1.5, 1e9, 2 ** 53, [1e9], [0, 0, 0, 0], [-1]),
  fc.integer({ min: -3, max: 20 }),
  fc.string({ maxLength: 4 }),
);

type Corruption = { readonly pick: number; readonly kind: 'set' | 'delete' | 'duplicate'; readonly value: Json };
const corruptions: fc.Arbitrary<Corruption> = fc.record({ pick: fc.nat(), kind: fc.constantFrom<'set' | 'delete' | 'duplicate'>('set', 'set', 'delete', 'duplicate'), value: badValues });

/** A corrupted deep copy of `doc`: one value replaced, one key or element removed, or one element repeated. */
function corrupt(doc: Json, { pick, kind, value }: Corruption): Json {
  const copy = structuredClone(doc);
  const paths = pathsOf(copy);
  const target = paths[pick % paths.length];
  let parent = copy as Record<string | number, unknown>;
  for (const key of target.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = target[target.length - 1];
  if (kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (kind === 'duplicate' && Array.isArray(parent)) parent.splice(last as number, 0, structuredClone(parent[last as number]));
  else parent[last] = value;
  return copy;
}

/** Loading either fails with a FreiaError or gives a flow that runs; nothing is left allocated either way. */
async function harmlessOrRefused(load: () => Promise<AnyFlow>): Promise<void> {
  const before = allocated();
  let flow: AnyFlow | undefined;
  try {
    flow = await load();
  } catch (error) {
    if (!(error instanceof FreiaError)) throw new Error(`not a typed error: ${String(error)}`, { cause: error });
  }
  if (flow) {
    const { xs, cs } = inputsFor(flow, 2, 1);
    try {
      const { out, logDet } = flow.forward(xs, { c: cs });
      tf.dispose([...list(out), logDet]);
    } catch (error) {
      // a loaded flow may still meet bad run-time data of its own (a module's domain), but only with a typed error
      if (!(error instanceof FreiaError)) throw new Error(`a loaded flow failed with an untyped error: ${String(error)}`, { cause: error });
    } finally {
      tf.dispose([...xs, ...cs]);
      flow.dispose();
    }
  }
  expect(allocated()).toEqual(before);
}

const savedDir = path.join(import.meta.dirname, 'fixtures', 'saved');
const savedDocuments = ['conditional-chain', 'graph-splits'].map((name) => JSON.parse(readFileSync(path.join(savedDir, `${name}.json`), 'utf8')) as Json);
const freiaDocuments = ['glow_fc', 'permute_random', 'graph_readme', 'actnorm_conv', 'all_in_one_cond', 'split', 'haar_down'].map(
  (name) => JSON.parse(readFileSync(path.join(fixturesDir, `${name}.json`), 'utf8')) as FreiaDocument,
);

/** A FrEIA document without its recorded evaluations (the verifier reads those, not the importer). */
const withoutCases = (doc: FreiaDocument): Json => ({ ...doc, cases: [] });

describe('random corruptions are harmless or refused with a typed error, and leak nothing', () => {
  it('saved flows (freia-ts/1 documents)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(savedDocuments.length - 1), corruptions, async (which, corruption) => {
        const doc = corrupt(savedDocuments[which], corruption);
        await harmlessOrRefused(() => loadFlow(doc as FlowDocument));
      }),
      runs(1200),
    );
  });

  it('saved flows (tf.io artifacts: topology and weight bytes)', async () => {
    setGlobalSeed(3);
    const sources = await Promise.all(
      [{ face: 'chain', input: [2, 4, 2], condition: 0, steps: [{ op: 1, a: 2, b: 3 }, { op: 7, a: 1, b: 0 }] }, { face: 'graph', input: [3], condition: 2, steps: [{ op: 6, a: 0, b: 1 }, { op: 0, a: 0, b: 0 }] }].map(async (recipe) => {
        const flow = buildRecipe(recipe as Parameters<typeof buildRecipe>[0]);
        const store = memoryHandler();
        await saveFlow(flow, store);
        flow.dispose();
        return store.artifacts!;
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(sources.length - 1), corruptions, fc.option(fc.record({ at: fc.nat(), byte: fc.nat(255) })), async (which, corruption, flip) => {
        const artifacts = sources[which];
        const parts = corrupt({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }, corruption) as Record<string, unknown>;
        const bytes = new Uint8Array((artifacts.weightData as ArrayBuffer).slice(0));
        if (flip) bytes[flip.at % bytes.length] = flip.byte;
        const corrupted = { ...parts, weightData: bytes.buffer } as tf.io.ModelArtifacts;
        await harmlessOrRefused(() => loadFlow({ load: async () => corrupted }));
      }),
      runs(800),
    );
  });

  it('FrEIA documents (importFreia)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(freiaDocuments.length - 1), corruptions, async (which, corruption) => {
        const doc = corrupt(withoutCases(freiaDocuments[which]), corruption);
        await harmlessOrRefused(async () => importFreia(doc as FreiaDocument));
      }),
      runs(1200),
    );
  });
});
