/**
 * A loop over a batch of large messages (decoding, validating) is one synchronous task
 * unless it gives way: call the returned function once per item, and it awaits a turn
 * of the event loop whenever `sliceMs` have passed since the last, so NATS heartbeats,
 * acks and HTTP answers wait at most about that long.
 */
export function timeSlicer(sliceMs = 10): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
