/** What `run` throws (undefined when it returns), so that a test can check the error's class and fields. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** {@link thrownBy} for a run that may return a promise: what it throws or rejects with. */
export async function thrownByAsync(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}
