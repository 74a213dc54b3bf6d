/**
 * The messages a user sees in the editor for mis-wired chains: each snippet
 * is compiled with the TypeScript compiler against the sources, and the
 * diagnostic must carry the readable text of the failed shape rule.
 */
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const snippetFile = path.join(root, 'test', '__snippet__.ts');

const prelude = `import { inn, subnets } from '../src/index.js';\nconst mlp = subnets.mlp({ hidden: 8 });\nvoid mlp;\n`;

const cases: { name: string; code: string; message: string }[] = [
  { name: 'split sum', code: 'inn.input([3, 32, 32]).flatten().split([1000, 2000]);', message: 'split sections sum to 3000 but the axis has 3072' },
  { name: 'downsample odd height', code: 'inn.input([3, 31, 32]).irevnetDownsample();', message: 'downsampling needs an even height and width, got [3, 31, 32]' },
  { name: 'haar of a vector', code: 'inn.input([48]).haarDownsample();', message: 'downsampling needs an image [C, H, W], got [48]' },
  { name: 'upsample channels', code: 'inn.input([6, 16, 16]).irevnetUpsample();', message: 'upsampling needs channels divisible by 4, got [6, 16, 16]' },
  { name: 'concat spatial', code: 'inn.input([8, 32, 32]).split([4, 4]).on(1, (s) => s.reshape([4, 16, 64])).concat();', message: 'concat needs shapes equal except in dim 0, got [4, 32, 32] and [4, 16, 64]' },
  { name: 'reshape count', code: 'inn.input([12]).reshape([5, 2]);', message: 'reshape to [5, 2] (10 elements) from [12] (12 elements)' },
  { name: 'no condition', code: 'inn.input([4]).allInOne({ subnet: mlp, cond: 0 });', message: 'no condition is declared: add .condition(shape) to the chain first' },
  { name: 'two streams', code: 'inn.input([4]).split([2, 2]).glow({ subnet: mlp });', message: 'this operation needs exactly one live stream, but 2 are live' },
  { name: 'split dim', code: 'inn.input([4, 8, 8]).split([2, 2], { dim: 3 });', message: 'split dim 3 is out of range for shape [4, 8, 8]' },
  { name: 'vector-only module on an image', code: 'inn.input([4, 4, 4]).orthogonal();', message: 'orthogonal needs a vector input [C], got [4, 4, 4]: flatten it first' },
  { name: 'image-only module on a vector', code: 'inn.input([4]).fixed1x1Conv({ M: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] });', message: 'fixed1x1Conv needs an image input [C, H, W], got [4]' },
  { name: 'iresnet on a sequence', code: 'inn.input([4, 8]).iresnet();', message: 'iresnet needs a vector [C] or an image [C, H, W], got [4, 8]' },
  { name: 'concat of one stream', code: 'inn.input([4]).concat();', message: 'concat needs at least two live streams, but only 1 is live' },
  { name: 'a coupling on one channel', code: 'inn.input([1, 28, 28]).glow({ subnet: mlp });', message: 'glow splits the channels into two non-empty halves, but [1, 28, 28] has 1 channel: downsample first (haarDownsample or irevnetDownsample gives 4 channels)' },
  { name: 'a conv subnet on a vector', code: 'inn.input([3, 32, 32]).flatten().glow({ subnet: subnets.conv({ hidden: 8 }) });', message: 'Type \'"conv (needs an image [C, H, W])"\' is not assignable to type \'"mlp"\'' },
  { name: 'an input of the wrong rank', code: "import * as tf from '@tensorflow/tfjs';\nconst f = inn.input([784]).allInOne({ subnet: mlp }).build();\nf.forward(tf.zeros([8, 28, 28]) as tf.Tensor3D);", message: 'input takes [batch, 784], a Tensor2D, but this is a Tensor3D' },
  { name: 'a condition for an unconditional flow', code: "import * as tf from '@tensorflow/tfjs';\nconst f = inn.input([4]).allInOne({ subnet: mlp }).build();\nf.forward(tf.zeros([8, 4]), { c: tf.zeros([8, 2]) });", message: 'this flow declares no conditions' },
  { name: 'a missing condition', code: "import * as tf from '@tensorflow/tfjs';\nconst f = inn.input([4]).condition([2]).allInOne({ subnet: mlp, cond: 0 }).build();\nf.forward(tf.zeros([8, 4]));", message: 'Expected 2 arguments, but got 1.' },
  { name: 'two outputs used as one tensor', code: "import * as tf from '@tensorflow/tfjs';\nconst f = inn.input([4]).split([2, 2]).build();\ntf.add(f.forward(tf.zeros([8, 4])).out, 1);", message: "Argument of type '[Tensor<Rank>, Tensor<Rank>] & SeveralTensors<2>'" },
  { name: 'graph concat of mismatched images', code: 'const g = inn.graph(); g.concat([g.input([3, 32, 32]), g.input([3, 16, 16])]);', message: 'concat needs shapes equal except in dim 0, got [3, 32, 32] and [3, 16, 16]' },
];

function diagnosticsFor(code: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const source = prelude + code + '\n';
  host.readFile = (file) => (path.resolve(file) === snippetFile ? source : readFile(file));
  host.fileExists = ((exists) => (file: string) => path.resolve(file) === snippetFile || exists(file))(host.fileExists.bind(host));
  host.getSourceFile = (file, language, onError) =>
    path.resolve(file) === snippetFile ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, onError);
  const program = ts.createProgram([snippetFile], options, host);
  const sf = program.getSourceFile(snippetFile)!;
  return ts.getPreEmitDiagnostics(program, sf).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('shape errors read well in the editor', () => {
  it('a well-wired chain has no diagnostics', () => {
    expect(diagnosticsFor('inn.input([3, 32, 32]).irevnetDownsample().flatten().split([768, 2304]).concat();')).toEqual([]);
  });
  for (const c of cases) {
    it(c.name, () => {
      const messages = diagnosticsFor(c.code);
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.join('\n')).toContain(c.message);
    });
  }
});
