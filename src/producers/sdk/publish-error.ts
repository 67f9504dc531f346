import { JetStreamApiError } from '@nats-io/jetstream';
import type { SluiceEvent } from '../../contracts/index.js';
import { SluiceError } from '../../errors/index.js';

/**
 * What a publish that gave up throws: VERSION_CONFLICT when the stream refused the
 * expected version (JetStream error 10071, whose message ends with the current one),
 * PUBLISH_FAILED otherwise.
 */
export function publishError(
  err: unknown,
  event: SluiceEvent,
  subject: string,
  expectedVersion: number | undefined,
): SluiceError {
  if (err instanceof JetStreamApiError && err.code === 10071) {
    const actual = Number(/(\d+)\s*$/.exec(err.message)?.[1] ?? NaN);
    return new SluiceError(
      'VERSION_CONFLICT',
      `document ${event.data.collection}/${event.data.documentId} is at version ${Number.isNaN(actual) ? 'unknown' : actual}, not ${expectedVersion}`,
      {
        cause: err,
        details: {
          expected: expectedVersion,
          actual: Number.isNaN(actual) ? null : actual,
        },
      },
    );
  }
  return new SluiceError(
    'PUBLISH_FAILED',
    `could not publish event ${event.id} to ${subject}: ${(err as Error).message}`,
    { cause: err },
  );
}
