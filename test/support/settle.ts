// Awaiting a promise's outcome without bun:test's `.resolves` / `.rejects` matchers.
//
// In Bun 1.4 those matchers wait for the promise by running a nested turn of the event loop, and
// a nested turn inside a setImmediate callback runs immediates queued after it before the rest of
// its own batch. playwright-core's in-process client and driver pass every protocol message with
// setImmediate, so the reordering delivered an event before the message that created its object
// ("Object with guid response@… was not bound in the connection", thrown outside the test: it
// failed the browser test that was running and the ones after it). Plain `await` keeps the order.

/** The error `p` rejects with; fails the test if `p` resolves instead. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  let value: unknown;
  try {
    value = await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 200)}`);
}
