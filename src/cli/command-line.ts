/**
 * What every `freia-ts` command does the same way: flags parsed strictly and
 * checked before any work, output paths checked writable before training,
 * one line and exit 2 for a usage error, one line and exit 1 for a failed
 * run, a stack trace only with `--debug`, and `--help` for the command's
 * usage.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: the command prints one line and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One command: its name (for messages), its usage text, its flags, how many file arguments it takes. */
export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  readonly name: string;
  readonly usage: string;
  readonly options: O;
  readonly positionals?: { readonly min: number; readonly max: number; readonly what: string };
}

type Parsed<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

/** `--flag` spelled as the user would type it. */
const flagName = (name: string) => `--${name}`;

/**
 * Parses the command line strictly (unknown flags, a missing value and a
 * value given to a switch are usage errors). Call inside {@link runCommand}.
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> {
  // `--steps -5` would be refused by node:util as ambiguous; read it as `--steps=-5`, so that the flag's own check speaks.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const option = spec.options[argv[i].replace(/^--/, '')];
    if (argv[i].startsWith('--') && option?.type === 'string' && /^-\d/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options: spec.options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's messages are clear but long ("Unknown option '--bogus'. To specify a positional argument starting with a '-', ..."): keep the first sentence.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0].replace(/\.$/, '').replace(/\s+/g, ' ') : String(error);
    throw new UsageError(`${message} (flags: ${Object.keys(spec.options).map(flagName).join(', ')})`);
  }
  const allowed = spec.positionals ?? { min: 0, max: 0, what: '' };
  const count = parsed.positionals.length;
  if (count < allowed.min || count > allowed.max) {
    const wanted = allowed.min === allowed.max ? `${allowed.min}` : allowed.max === Infinity ? `at least ${allowed.min}` : `${allowed.min} to ${allowed.max}`;
    throw new UsageError(count > allowed.max && allowed.max === 0 ? `unexpected argument "${parsed.positionals[0]}"` : `expected ${wanted} ${allowed.what || 'argument(s)'}, got ${count}`);
  }
  return parsed;
}

/** A whole-number flag within `[min, max]`; `''`, `1.5`, `abc` and `-5` (when `min` is 0) are usage errors. */
export function wholeNumberFlag(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flagName(name)}: expected a whole number ${range}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A finite-number flag at least `min`; `''` and `abc` are usage errors. */
export function numberFlag(name: string, text: string, min: number): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value) || value < min) throw new UsageError(`${flagName(name)}: expected a number >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}

/** Why `dir` cannot take new files, or undefined when it can. */
function unwritableDirectory(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return 'it is not a folder';
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : 'it is not writable';
  }
}

/**
 * `mkdir -p`, one level at a time. Node's own `mkdirSync(dir, { recursive: true })`
 * never returns for a folder the file system refuses with ENOENT although
 * its parent exists (`/proc/nope` on Linux): that was the demo's hang.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = dir; !existsSync(at); at = path.dirname(at)) {
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  for (const folder of missing) mkdirSync(folder);
}

/**
 * Makes the output folder (as `mkdir -p`) and checks that files can be
 * written there: run before any training, so a bad `--out` costs nothing.
 */
export function outputFolderFlag(name: string, dir: string): string {
  const resolved = path.resolve(dir);
  try {
    makeFolders(resolved);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' ? 'the file system does not allow it here'
      : (error as Error).message;
    throw new UsageError(`${flagName(name)} ${dir}: cannot make the output folder (${why})`);
  }
  const why = unwritableDirectory(resolved);
  if (why) throw new UsageError(`${flagName(name)} ${dir}: cannot write there (${why})`);
  return resolved;
}

/** Checks an output file's extension against `extensions` and that its folder exists and is writable. */
export function outputFileFlag(name: string, file: string, extensions: readonly string[]): string {
  const ext = path.extname(file).toLowerCase();
  if (!extensions.includes(ext)) throw new UsageError(`${flagName(name)} ${file}: expected a file ending in ${extensions.join(', ')}, got ${ext ? `"${ext}"` : 'no extension'}`);
  const resolved = path.resolve(file);
  try {
    if (statSync(resolved).isDirectory()) throw new UsageError(`${flagName(name)} ${file}: is a folder, expected a file name`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
  }
  const why = unwritableDirectory(path.dirname(resolved));
  if (why) throw new UsageError(`${flagName(name)} ${file}: cannot write there (its folder: ${why})`);
  return resolved;
}

/**
 * For a command that runs at the top level of its module (the benchmark):
 * `--help` prints the usage and exits 0; a bad command line, or a
 * {@link UsageError} from `check`, prints one line and exits 2.
 */
export function parseCommandLine<O extends NonNullable<ParseArgsConfig['options']>, T>(spec: CommandSpec<O>, check: (parsed: Parsed<O>) => T, argv = process.argv.slice(2)): T {
  exitWithHelpIfAsked(spec, argv);
  try {
    return check(parseCommand(spec, argv));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return exitWithUsageError(spec, error, false);
  }
}

/** `--help` or `-h` anywhere: the usage on stdout, exit 0. */
function exitWithHelpIfAsked(spec: CommandSpec<NonNullable<ParseArgsConfig['options']>>, argv: readonly string[]): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  console.log(spec.usage);
  process.exit(0);
}

/** A usage error: one line on stderr (and the stack with `--debug`), exit 2. */
function exitWithUsageError(spec: CommandSpec<NonNullable<ParseArgsConfig['options']>>, error: UsageError, debug: boolean): never {
  console.error(`freia-ts ${spec.name}: ${error.message} (freia-ts ${spec.name} --help shows the usage)`);
  if (debug) console.error(error.stack);
  process.exit(2);
}

/**
 * Runs a command's body with its parsed arguments (those after the command's name):
 * `--help` prints the usage; a {@link UsageError} prints one line and exits
 * 2; any other error prints one line
 * (`freia-ts NAME: message`) and exits 1, with the stack when `--debug` was
 * given. The body's number is the exit code (0 when it returns nothing).
 */
export async function runCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  spec: CommandSpec<O>,
  body: (parsed: Parsed<O>) => Promise<number | void>,
  argv = process.argv.slice(2),
): Promise<never> {
  const { name } = spec;
  const debug = argv.includes('--debug');
  const rest = argv.filter((arg) => arg !== '--debug');
  exitWithHelpIfAsked(spec, rest);
  let code: number;
  try {
    code = (await body(parseCommand(spec, rest))) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) exitWithUsageError(spec, error, debug);
    if (debug) console.error(`freia-ts ${name}: failed\n${error instanceof Error ? error.stack : String(error)}`);
    else console.error(`freia-ts ${name}: ${(error instanceof Error ? error.message : String(error)).split('\n').join(' ')} (--debug shows the stack trace)`);
    process.exit(1);
  }
  // Flush stdout before leaving: a piped stdout is asynchronous in Node.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
