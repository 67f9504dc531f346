/**
 * Runs `refresh` at most once per `everyMs`, however often it is asked: callers within
 * the window share the last run (or the one in flight). Anonymous /metrics scrapes use
 * it, so a scraper (or anyone) polling it costs JetStream one round of info calls per
 * window, not one per request.
 */
export function refreshAtMostEvery(
  everyMs: number,
  refresh: () => Promise<void>,
  now: () => number = Date.now,
): () => Promise<void> {
  let last: { at: number; run: Promise<void> } | undefined;
  return () => {
    if (last && now() - last.at < everyMs) return last.run;
    const run = refresh();
    last = { at: now(), run };
    return run;
  };
}
