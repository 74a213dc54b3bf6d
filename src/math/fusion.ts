/**
 * The switch between fused fast paths (one kernel, or a hand-written
 * gradient, for what would be several tfjs operations) and the plain
 * composition of tfjs operations they replace. On by default; internal:
 * tests run both paths and compare them, and measurements use it to show a
 * fusion's effect.
 */
let enabled = true;

/** Whether fused paths are used. */
export function fusionEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with fused paths on or off, then restores the previous setting. */
export function withFusion<T>(on: boolean, fn: () => T): T {
  const before = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}
