/**
 * A tqdm-like progress line for long training runs.
 *
 * Internal to training: `train.fit(flow, { progress })` draws it, and the
 * command line reaches it through `fit` (or imports this file directly).
 * It is not part of the package's public API, so it can change with the
 * training loop's needs.
 *
 * Kept dependency-free on purpose: the demo and the benchmarks only need a
 * single status line, and pulling in a terminal UI package for that would
 * be out of proportion.
 *
 * @module
 */

/** Where a progress bar writes: a Node stream (stderr by default) or anything with `write`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * stderr in Node; elsewhere (a browser) whole lines go to `console.log`,
 * since there is no terminal to redraw.
 */
function defaultStream(): ProgressStream {
  const stderr = (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
  if (stderr) return stderr;
  let pending = '';
  return {
    write(chunk: string) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) console.log(line);
    },
  };
}

/** Options for {@link ProgressBar}. */
export interface ProgressBarOptions {
  /**
   * Number of steps that make up 100 %; `undefined` when the end is not
   * known (a stream of batches): the line then shows the count without a bar
   * or ETA, and log mode prints at steps 1, 2, 4, … 512, then every 1000.
   */
  total: number | undefined;
  /** Text shown before the bar, e.g. `"train"`. */
  label?: string;
  /**
   * Where the line goes. Defaults to `process.stderr` so that progress never
   * mixes with results a user may be piping out of stdout.
   */
  stream?: ProgressStream;
  /** Width of the bar itself in characters (default 30). */
  width?: number;
  /**
   * Clock in milliseconds. Injectable so tests can drive time without
   * sleeping; defaults to `performance.now()` because it is monotonic,
   * unlike `Date.now()`, which can jump when the system clock is adjusted.
   */
  now?: () => number;
  /**
   * Forces TTY (redrawing) or log (line-per-10 %) mode. By default it is
   * read from `stream.isTTY`, which is what almost every caller wants;
   * the override exists for wrappers that know better (e.g. a TTY that is
   * being recorded into a log file).
   */
  tty?: boolean;
}

/** Extra fields shown after the counter, e.g. `{ loss: 1.234 }`. */
export type ProgressInfo = Record<string, string | number>;

/**
 * Redrawing faster than this is invisible to a human but costs a syscall
 * and, over SSH, bandwidth; 100 ms matches tqdm's default `mininterval`.
 */
const MIN_REDRAW_MS = 100;

/**
 * In log mode one line per 10 % keeps a CI log to about a dozen lines per
 * run while still showing that training is alive and how fast it goes.
 */
const LOG_BUCKETS = 10;

/**
 * Single-line progress display.
 *
 * On a TTY the line is redrawn in place with `\r`, throttled to about ten
 * redraws per second. Anywhere else (CI, pipes, files) carriage returns
 * would turn into one enormous line or thousands of lines, so a full line
 * is printed only each time another 10 % is reached and when the run ends.
 *
 * Used as `bar = new ProgressBar({ total: steps, label: 'train' })`, then
 * `bar.tick(1, { loss })` once per step and `bar.done()` at the end.
 */
export class ProgressBar {
  private readonly total: number | undefined;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly width: number;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly start: number;

  private step = 0;
  private info: ProgressInfo | undefined;
  private lastDrawAt = Number.NEGATIVE_INFINITY;
  /** Length of the last TTY line, so a shorter redraw can blank the tail. */
  private lastLength = 0;
  /** Highest 10 % bucket already printed in log mode. */
  private lastBucket = 0;
  /** Step of the last line printed in log mode, to avoid repeating it in `done()`. */
  private lastPrintedStep = -1;
  private closed = false;

  constructor(options: ProgressBarOptions) {
    const { total } = options;
    if (total !== undefined && (!Number.isFinite(total) || total < 0)) {
      throw new RangeError(`ProgressBar: total must be a finite number >= 0, got ${total}`);
    }
    this.total = total;
    this.label = options.label ?? '';
    this.stream = options.stream ?? defaultStream();
    this.width = Math.max(1, Math.floor(options.width ?? 30));
    this.now = options.now ?? (() => performance.now());
    this.tty = options.tty ?? readIsTTY(this.stream);
    this.start = this.now();
  }

  /**
   * Advances by `n` steps. `info`, when given, replaces the fields shown;
   * when omitted the previous fields stay, so callers that only compute the
   * loss every k steps do not make it flicker away in between.
   */
  tick(n = 1, info?: ProgressInfo): void {
    this.update(this.step + n, info);
  }

  /** Sets the absolute step, for loops that already keep their own counter. */
  update(step: number, info?: ProgressInfo): void {
    if (this.closed) return;
    this.step = step;
    if (info !== undefined) this.info = info;

    const t = this.now();
    if (this.tty) {
      if (t - this.lastDrawAt >= MIN_REDRAW_MS || (this.total !== undefined && this.step >= this.total)) {
        this.drawInPlace(t);
      }
      return;
    }
    const bucket = this.bucketOf(this.step);
    if (bucket > this.lastBucket) {
      this.lastBucket = bucket;
      this.printLine(t);
    }
  }

  /**
   * Finishes the line. Always call it, also after an early `break`: it
   * prints the final state with the elapsed time and, on a TTY, moves the
   * cursor to a fresh line so later output does not overwrite the bar.
   * Further calls to `tick`/`update`/`done` are ignored.
   */
  done(): void {
    if (this.closed) return;
    this.closed = true;
    const t = this.now();
    if (this.tty) {
      this.drawInPlace(t);
      this.stream.write('\n');
    } else if (this.lastPrintedStep !== this.step) {
      this.printLine(t);
    }
  }

  /** The line as it would be drawn now; exposed for callers that log elsewhere. */
  render(at: number = this.now()): string {
    const elapsedS = Math.max(0, (at - this.start) / 1000);
    const total = this.total;
    const finished = this.closed || (total !== undefined && this.step >= total);
    const parts: string[] = [];
    if (this.label) parts.push(this.label);
    if (total === undefined) {
      parts.push(`${this.step} steps`);
    } else {
      const frac = total > 0 ? clamp01(this.step / total) : 1;
      const filled = Math.round(frac * this.width);
      parts.push(`[${'█'.repeat(filled) + '░'.repeat(this.width - filled)}]`, `${this.step}/${total}`);
    }
    if (this.info) {
      for (const [key, value] of Object.entries(this.info)) {
        parts.push(`${key} ${formatValue(value)}`);
      }
    }
    const rate = elapsedS > 0 ? this.step / elapsedS : 0;
    parts.push(`| ${formatRate(rate)}`);
    if (finished) {
      parts.push(`| ${formatDuration(elapsedS)} elapsed`);
    } else if (total !== undefined) {
      const eta = rate > 0 ? (total - this.step) / rate : Number.NaN;
      parts.push(`| ETA ${formatDuration(eta)}`);
    }
    return parts.join(' ');
  }

  private bucketOf(step: number): number {
    // Without a total, the buckets are the steps worth a line: powers of two, then every 1000th.
    if (this.total === undefined) return step < 1024 ? 2 ** Math.floor(Math.log2(Math.max(1, step))) * Math.min(1, step) : 1024 + Math.floor(step / 1000);
    if (this.total <= 0) return LOG_BUCKETS;
    // Integer arithmetic so that e.g. 300/1000 is bucket 3, not 2.9999.
    return Math.min(LOG_BUCKETS, Math.floor((step * LOG_BUCKETS) / this.total));
  }

  private drawInPlace(t: number): void {
    this.lastDrawAt = t;
    let line = this.render(t);
    // A line that wraps cannot be overwritten by `\r`, which would leave a
    // trail of half-lines, so it is cut to the terminal width.
    const columns = readColumns(this.stream);
    if (columns !== undefined && line.length > columns - 1) {
      line = line.slice(0, Math.max(0, columns - 1));
    }
    const pad = this.lastLength > line.length ? ' '.repeat(this.lastLength - line.length) : '';
    this.lastLength = line.length;
    this.stream.write(`\r${line}${pad}`);
  }

  private printLine(t: number): void {
    this.lastPrintedStep = this.step;
    this.stream.write(`${this.render(t)}\n`);
  }
}

/**
 * Human-readable duration: `"12.3s"` below a minute, `"1m05s"` below an
 * hour, `"1h02m"` above. Seconds are dropped in the hour form because at
 * that scale they are noise in an ETA. Non-finite input (an ETA before
 * the first step) gives `"?"`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, seconds);
  // Compare after rounding so 59.97 does not print as "60.0s".
  if (Math.round(s * 10) < 600) return `${(Math.round(s * 10) / 10).toFixed(1)}s`;
  const whole = Math.round(s);
  if (whole < 3600) {
    const m = Math.floor(whole / 60);
    const sec = whole % 60;
    return `${m}m${pad2(sec)}s`;
  }
  const minutes = Math.floor(whole / 60);
  const h = Math.floor(minutes / 60);
  return `${h}h${pad2(minutes % 60)}m`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Four significant digits: enough to see a loss move, short enough to fit. */
function formatValue(value: string | number): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  if (!Number.isFinite(value)) return String(value);
  return value.toPrecision(4);
}

/** Slow steps (whole epochs) read better as s/it than as 0.01 it/s. */
function formatRate(rate: number): string {
  if (rate <= 0 || !Number.isFinite(rate)) return '? it/s';
  if (rate < 1) return `${(1 / rate).toFixed(2)} s/it`;
  return `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} it/s`;
}

/** `ProgressStream` does not declare `isTTY`; only tty.WriteStream has it. */
function readIsTTY(stream: ProgressStream): boolean {
  return (stream as { isTTY?: unknown }).isTTY === true;
}

function readColumns(stream: ProgressStream): number | undefined {
  const columns = (stream as { columns?: unknown }).columns;
  return typeof columns === 'number' && columns > 0 ? columns : undefined;
}
