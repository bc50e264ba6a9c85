export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it gives a truthy value, which it returns, or fails naming `what` after
 * `timeoutMs`. With `tolerateErrors`, a check that throws counts as "not yet" (the service or
 * its database may be away on purpose).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  options: { pollMs?: number; tolerateErrors?: boolean } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await (options.tolerateErrors ? check().catch(() => undefined) : check());
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(options.pollMs ?? 200);
  }
}
