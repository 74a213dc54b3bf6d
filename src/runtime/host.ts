/**
 * What the runtime needs from its host without depending on Node: Node's
 * `process` when there is one, and optional peers imported by name.
 */

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
type Listener = (...args: unknown[]) => unknown;

/** The part of Node's `process` used here, typed by hand: the library also runs in browsers, without Node's types. */
export interface ProcessLike {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  platform?: string;
  listeners?(event: ProcessEvent): Listener[];
  removeListener?(event: ProcessEvent, listener: Listener): unknown;
}

/** Node's `process` when there is one (reached through `globalThis`, so a browser bundle needs no shim). */
export function nodeProcess(): ProcessLike | undefined {
  // Cast: `globalThis` carries no `process` in a browser; in Node it is a superset of ProcessLike.
  return (globalThis as { process?: ProcessLike }).process;
}

/** An optional peer's module, or why it could not be had (missing, or failed to load). */
export type Imported = { ok: true; module: unknown } | { ok: false; reason: string };

/** Imports an optional peer; the reason says whether it is missing or failed to load. */
export async function importOptional(specifier: string): Promise<Imported> {
  try {
    // A variable specifier keeps TypeScript and bundlers from resolving an optional peer.
    const module: unknown = await import(specifier);
    return { ok: true, module };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Cast: Node's resolution errors carry a `code`; anything else thrown has none.
    const code = (error as { code?: unknown } | null)?.code;
    // The package itself is missing (not one of its own dependencies).
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${specifier}'`)) {
      return { ok: false, reason: `${specifier} is not installed` };
    }
    return { ok: false, reason: `${specifier} failed to load: ${message}` };
  }
}
