/**
 * Docs that work when pasted: every `ts` block of the README, of the
 * guides (docs/guides/*.md), of the example pages (docs/examples/*.md) and
 * of docs/scale-out.md type-checks against the library (with
 * `@ts-expect-error` lines really failing), every README and guide block
 * runs without leaking tensors, and no code leaves a promise of ours
 * floating (the compiler has no such check; typescript-eslint's
 * `no-floating-promises` would need a linter we do not run).
 */
import { afterAll, describe, expect, it } from 'vitest';
import ts from 'typescript';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { inn, subnets } from '../src/index.js';

const root = path.resolve(import.meta.dirname, '..');
const scratch = path.join(root, 'test', '.docs-scratch');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const entry = path.join(root, 'src', 'index.js');
const nodeEntry = path.join(root, 'src', 'node', 'index.js');

/** Every ```ts block of a TSDoc comment in src/, with the comment's leading ` * ` removed. */
function tsdocExamples(): { file: string; code: string }[] {
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.flatMap((file) => {
    const text = readFileSync(path.join(root, 'src', file), 'utf8');
    return [...text.matchAll(/^\s*\* ```ts\n([\s\S]*?)^\s*\* ```/gm)].map((m) => ({
      file,
      code: m[1].split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n'),
    }));
  });
}

/** Compiles snippets (importing 'freia-ts' or 'freia-ts/node') against the sources, strictly; returns the messages. */
function typeCheck(snippets: { label: string; code: string }[]): string[] {
  const files = snippets.map(({ code }, k) => {
    const file = path.join(scratch, `snippet-${k}.ts`);
    writeFileSync(file, localize(code) + '\nexport {};\n');
    return file;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
  };
  const program = ts.createProgram(files, options);
  return files.flatMap((f, k) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => `${snippets[k].label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`));
}

/** The library's functions that return promises: a call must be awaited, returned or chained. */
const asyncApi = ['ready', 'useBackend', 'saveFlow', 'loadFlow', 'saveCheckpoint', 'loadCheckpoint', 'saveFlowFile', 'loadFlowFile', 'toSvg'];

/**
 * Calls of `asyncApi` in `code` that are neither awaited, returned (also by an
 * arrow function) nor followed by `.then`/`.catch`/`.finally`, as
 * `line N: name(`. A receiver (`flow.toSvg(`) belongs to the call.
 */
function floatingCalls(code: string): string[] {
  const text = code.replace(/\/\/.*$/gm, ''); // a comment may name a function without calling it
  const call = new RegExp(`\\b(${asyncApi.join('|')})\\s*\\(`, 'g');
  return [...text.matchAll(call)].filter((m) => {
    const before = text.slice(0, m.index).replace(/(?:[\w$]+\s*\.\s*)*$/, '');
    if (/(?:\bawait|\breturn|=>)\s*$/.test(before)) return false;
    // Find the call's closing parenthesis, then look for a chained handler.
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    return !/^\s*\.\s*(?:then|catch|finally)\s*\(/.test(text.slice(end + 1));
  }).map((m) => `line ${text.slice(0, m.index).split('\n').length}: ${m[1]}(`);
}

function localize(code: string): string {
  return code.replaceAll("from 'freia-ts/node'", `from ${JSON.stringify(nodeEntry)}`).replaceAll("from 'freia-ts'", `from ${JSON.stringify(entry)}`);
}

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));

  it('the floating-promise check finds unawaited calls and accepts awaited, returned and chained ones', () => {
    const code = [
      'const doc = saveFlow(flow);', // floating
      'await ready(); // ready() again in a comment',
      'const svg = await flow.toSvg();',
      'flow.toSvg().then((s) => console.log(s));',
      'const restored = JSON.stringify(loadFlow(JSON.parse(json)));', // floating, inside another call
      'const save = () => saveFlowFile(flow, "f.json");',
      'loadFlowFile(',
      '  "f.json",',
      ').catch(console.error);',
      'useBackend("cpu");', // floating
    ].join('\n');
    expect(floatingCalls(code)).toEqual(['line 1: saveFlow(', 'line 5: loadFlow(', 'line 10: useBackend(']);
  });

  it('every call of a promise-returning function in README code is awaited', () => {
    const code = [...readme.matchAll(/^[ \t]*```(?:ts|js|typescript|javascript)\n([\s\S]*?)^[ \t]*```/gm)].map((m) => m[1]);
    expect(code.length).toBeGreaterThanOrEqual(blocks.length); // every ts block, and js ones (also indented in a list)
    expect(code.flatMap((block, k) => floatingCalls(block).map((call) => `code block ${k}, ${call}`))).toEqual([]);
  });

  it('type-check', () => {
    expect(typeCheck(blocks.map((code, k) => ({ label: `README block ${k}`, code })))).toEqual([]);
  });

  it('TSDoc examples in src/ type-check', () => {
    const examples = tsdocExamples();
    expect(examples.length).toBeGreaterThanOrEqual(10);
    expect(typeCheck(examples.map(({ file, code }) => ({ label: file, code })))).toEqual([]);
  });

  it('the example pages (docs/examples/*.md) type-check', () => {
    const dir = path.join(root, 'docs', 'examples');
    const pages = readdirSync(dir).filter((f) => f.endsWith('.md'));
    const snippets = pages.flatMap((page) => [...readFileSync(path.join(dir, page), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, k) => ({ label: `docs/examples/${page} block ${k}`, code: m[1] })));
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    expect(typeCheck(snippets)).toEqual([]);
    // Their code is awaited where it must be, as the README's.
    expect(snippets.flatMap(({ label, code }) => floatingCalls(code).map((call) => `${label}, ${call}`))).toEqual([]);
  });

  it('the guides with code to paste (docs/scale-out.md) type-check', () => {
    const snippets = ['scale-out.md'].flatMap((page) => [...readFileSync(path.join(root, 'docs', page), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m, k) => ({ label: `docs/${page} block ${k}`, code: m[1] })));
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    expect(typeCheck(snippets)).toEqual([]);
    expect(snippets.flatMap(({ label, code }) => floatingCalls(code).map((call) => `${label}, ${call}`))).toEqual([]);
  });

  // A block that shows mis-wired code is only type-checked: it is meant to fail at run time.
  blocks.forEach((code, k) => {
    if (code.includes('@ts-expect-error')) return;
    it(`block ${k} runs without leaking tensors`, async () => {
      const file = path.join(scratch, `run-${k}.ts`);
      writeFileSync(file, localize(code) + '\nexport {};\n');
      const before = tf.memory().numTensors;
      await import(file);
      // Building a flow allocates its parameters; a README block leaves them to the user, so count only non-variables.
      const variables = Object.values(tf.engine().registeredVariables).length;
      expect(tf.memory().numTensors - before).toBeLessThanOrEqual(variables);
    });
  });
});

/**
 * The guides (docs/guides/*.md): the site's teaching pages. Each `ts` block
 * stands alone (its own imports), type-checks, runs in a few seconds, and
 * leaves behind no tensor but the variables it made (the weights of the
 * flows it built and kept); the pictures they show exist, and those of the
 * networks are what the library draws now; index.md lists every guide, in
 * teaching order, for TypeDoc (`children` frontmatter).
 */
describe('the guides (docs/guides/*.md)', () => {
  const dir = path.join(root, 'docs', 'guides');
  const guides = ['quickstart.md', 'concepts.md', 'multi-scale.md', 'conditional.md', 'custom-modules.md', 'from-freia.md', 'training.md', 'backends.md', 'memory.md', 'performance.md'];
  const pages = readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
  const text = (page: string) => readFileSync(path.join(dir, page), 'utf8');
  const snippets = pages.flatMap((page) => [...text(page).matchAll(/```ts\n([\s\S]*?)```/g)].map((m, k) => ({ label: `docs/guides/${page} block ${k}`, code: m[1] })));

  it('has every guide, and index.md lists them in teaching order', () => {
    expect(pages).toEqual([...guides, 'index.md'].sort());
    const index = text('index.md');
    const children = [...(index.match(/^---\n[\s\S]*?\n---\n/)?.[0] ?? '').matchAll(/^ {2}- \.\/(\S+)$/gm)].map((m) => m[1]);
    expect(children).toEqual(guides);
    // TypeDoc reads `title` from each page's frontmatter.
    for (const page of pages) expect(text(page), page).toMatch(/^---\ntitle: .+\n[\s\S]*?---\n/);
  });

  it('every picture and page they link to exists', () => {
    const missing = pages.flatMap((page) => [...text(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1])
      .filter((target) => !/^[a-z]+:/.test(target))
      .filter((target) => !existsSync(path.resolve(dir, target)))
      .map((target) => `${page}: ${target}`));
    expect(missing).toEqual([]);
  });

  it('the networks\' pictures are what scripts/guide-pictures.mjs draws now', async () => {
    type Pictures = (lib: { inn: typeof inn; subnets: typeof subnets }) => [string, () => { toSvg(title?: string): Promise<string>; dispose(): void }][];
    const { guidePictures } = (await import(path.join(root, 'scripts', 'guide-pictures.mjs'))) as { guidePictures: Pictures };
    const pictures = guidePictures({ inn, subnets });
    expect(pictures.length).toBeGreaterThanOrEqual(4);
    for (const [name, build] of pictures) {
      const flow = build();
      const svg = await flow.toSvg(name);
      flow.dispose();
      expect(svg === text(`${name}.svg`), `docs/guides/${name}.svg is stale: node scripts/ensure-build.mjs && node scripts/guide-pictures.mjs`).toBe(true);
    }
  });

  it('type-check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(guides.length);
    expect(typeCheck(snippets)).toEqual([]);
  });

  it('every call of a promise-returning function is awaited', () => {
    expect(snippets.flatMap(({ label, code }) => floatingCalls(code).map((call) => `${label}, ${call}`))).toEqual([]);
  });

  snippets.forEach(({ label, code }, k) => {
    it(`${label} runs without leaking tensors`, { timeout: 60_000 }, async () => {
      const file = path.join(scratch, `guide-${k}.ts`);
      writeFileSync(file, localize(code) + '\nexport {};\n');
      const variables = () => Object.keys(tf.engine().registeredVariables).length;
      const before = { tensors: tf.memory().numTensors, variables: variables() };
      await import(file);
      // The block may keep the flows it built (their weights are variables); nothing else may stay.
      expect(tf.memory().numTensors - before.tensors).toBeLessThanOrEqual(Math.max(0, variables() - before.variables));
    });
  });
});
