import { afterEach, describe, expect, it, vi } from 'vitest';
import { PublishReach, streamOfSubject } from './publish-reach.js';

describe('streamOfSubject', () => {
  it.each([
    ['ns.chunks.t.c.doc', 'NS_CHUNKS'],
    ['ns.vectors.m.t.c.doc', 'NS_VECTORS'],
    ['ns.retry.indexer', 'NS_RETRY'],
    ['ns.dlq.chunker', 'NS_DLQ'],
    ['other.chunks.t.c.doc', undefined],
    ['ns.unknown.t.c.doc', undefined],
    ['ns', undefined],
  ])('%s → %s', (subject, stream) => {
    expect(streamOfSubject('ns', subject)).toBe(stream);
  });
});

describe('PublishReach: the streams a publish gave up on', () => {
  afterEach(() => vi.useRealTimers());
  const reach = () =>
    new PublishReach({ deadlineMs: 3_000, streamOf: (s) => streamOfSubject('ns', s) });

  it('a stream given up on gets one attempt per publish for a deadline, then a whole deadline again', () => {
    vi.useFakeTimers();
    const r = reach();
    r.gaveUp('ns.chunks.t.c.a');
    // Any subject of the same stream; other streams are untouched.
    expect(r.unreachedStream('ns.chunks.t.c.b')).toBe('NS_CHUNKS');
    expect(r.unreachedStream('ns.status.t.c.b')).toBeUndefined();
    vi.advanceTimersByTime(2_999);
    expect(r.unreachedStream('ns.chunks.t.c.b')).toBe('NS_CHUNKS');
    vi.advanceTimersByTime(1);
    expect(r.unreachedStream('ns.chunks.t.c.b')).toBeUndefined();
    // The probe still asks for its leader until one publish or probe reaches it.
    expect(r.streams).toEqual(['NS_CHUNKS']);
  });

  it('an acknowledged publish forgets the stream', () => {
    const r = reach();
    r.gaveUp('ns.chunks.t.c.a');
    r.gaveUp('ns.vectors.m.t.c.a');
    r.reached('ns.chunks.t.c.z');
    expect(r.streams).toEqual(['NS_VECTORS']);
  });

  it('subjects outside the namespace are not tracked', () => {
    const r = reach();
    r.gaveUp('elsewhere.chunks.t.c.a');
    expect(r.streams).toEqual([]);
  });
});
