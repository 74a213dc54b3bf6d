/**
 * The examples of `freia-ts example NAME`, each loaded only when asked for.
 */
import type { Example } from './types.js';

export const examples: Record<string, { readonly summary: string; load(): Promise<Example> }> = {
  moons: { summary: "the seed's moons INN: 8 AllInOne blocks, held-out NLL, data beside samples", load: async () => (await import('./moons.js')).moons },
  'mnist-cinn': { summary: 'conditional INN on the MNIST digits: 12 AllInOne on 784 given the label, test bits/dim, samples per label', load: async () => (await import('./mnist-cinn.js')).mnistCinnExample },
  'mnist-conv': { summary: 'multi-scale convolutional INN on the MNIST digits: Haar downsampling, splits, test bits/dim, samples', load: async () => (await import('./mnist-conv.js')).mnistConvExample },
  'custom-module': { summary: "the seed's two custom modules (FrEIA's tutorial) in a trained conditional INN: held-out NLL, samples per condition", load: async () => (await import('./custom-module.js')).customModuleExample },
  'freia-import': { summary: 'a FrEIA export (the moons INN) verified against its recorded evaluations, sampled, trained further here', load: async () => (await import('./freia-import.js')).freiaImportExample },
};
