/** A span as the tests compare them, whichever exporter it came through. */
export interface SpanNode {
  name: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
}

/**
 * One trace's spans as a tree: which spans have a parent missing from the trace (a broken
 * link), which parents lie outside it (the caller's span), and the names along the path
 * from the root to any span.
 */
export function traceTree(spans: SpanNode[]) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const outside = new Set<string>();
  const orphans: string[] = [];
  for (const s of spans) {
    if (s.parentSpanId === undefined || byId.has(s.parentSpanId)) continue;
    outside.add(s.parentSpanId);
  }
  // Exactly the external parents are roots; a span with no parent at all is an orphan
  // when the trace was started by a caller.
  for (const s of spans) if (s.parentSpanId === undefined) orphans.push(s.name);
  const path = (s: SpanNode): string[] => {
    const names: string[] = [];
    for (let at: SpanNode | undefined = s; at; at = byId.get(at.parentSpanId ?? ''))
      names.unshift(at.name);
    return names;
  };
  return {
    orphans,
    roots: [...outside],
    /** The path to every span that matches. */
    paths: (match: (s: SpanNode) => boolean): string[][] => spans.filter(match).map(path),
  };
}

/** The spans one document's trace passes through, from its HTTP ingest to the documents projection. */
export const documentTracePath = [
  'POST /v1/events',
  'send events',
  'process events',
  'send chunks',
  'process chunks',
  'send vectors',
  'process vectors',
  'send status',
  'process status',
];

/**
 * Whether a span that matches ends the whole document path: the condition the tracing
 * tests wait for, since a status of an earlier stage may reach the projection first.
 */
export function reachedEnd(spans: SpanNode[], match: (s: SpanNode) => boolean): boolean {
  const want = documentTracePath.join(' → ');
  return traceTree(spans)
    .paths(match)
    .some((p) => p.join(' → ') === want);
}
