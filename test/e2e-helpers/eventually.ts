/**
 * Polls `read` until it returns `expected` (deep-equal by JSON), for state
 * that settles just after a response ends (token settlement runs once the
 * last byte is out). Fails with the last value seen; not a timing assertion.
 *
 * @example await eventually(() => remaining(ingress, jwt, "tok", "tokens"), 1000);
 */
export async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const want = JSON.stringify(expected);
  for (;;) {
    const value = await read();
    if (JSON.stringify(value) === want) return value;
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
