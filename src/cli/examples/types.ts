/**
 * What every example of `freia-ts example` is: a name, a line of summary, a
 * default length, and a run that trains (or loads), measures one metric and
 * writes one picture.
 */

/** What the command hands an example: the flags, checked, and where to write. */
export interface ExampleContext {
  /** Training steps (0: untrained, which still measures and draws). */
  readonly steps: number;
  readonly seed: number;
  /** The output folder, made and checked writable. */
  readonly outDir: string;
  /** Prints a line for the reader (to stderr under --json, so stdout ends with the report). */
  log(line: string): void;
  /** The progress bar's options for train.fit. */
  readonly progress: { readonly label: string; readonly stream: NodeJS.WritableStream & { isTTY?: boolean } };
}

/** What an example reports: its metric and picture, and whatever else a reader would want in the JSON line. */
export interface ExampleResult {
  /** The metric's name, e.g. `'test bits/dim'`. */
  readonly metric: string;
  readonly value: number;
  /** The picture written, an absolute path. */
  readonly picture: string;
  readonly [detail: string]: unknown;
}

/** An example module's export. */
export interface Example {
  readonly summary: string;
  readonly defaultSteps: number;
  run(context: ExampleContext): Promise<ExampleResult>;
}
