import { fromMessage } from '../contracts/index.js';
import type { Subjects } from '../topology/index.js';
import type { Failure } from './classify.js';
import type { Delivery } from './consumer.js';
import type { PipelinePublisher } from './publisher.js';

const TOKEN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * An onDeadLetter hook that reports the document's version as failed (with the code,
 * message and consumer) so the read models show partial results and the error. A
 * message too broken to name its document is only in the dead-letter stream.
 */
export function reportFailedStage(
  publisher: PipelinePublisher,
  subjects: Subjects,
  consumer: string,
) {
  return async (d: Delivery, f: Failure): Promise<void> => {
    let data: Record<string, unknown>;
    try {
      data = (fromMessage(d).data ?? {}) as Record<string, unknown>;
    } catch {
      return;
    }
    const { tenant, collection, documentId } = data;
    if (
      typeof tenant !== 'string' ||
      typeof collection !== 'string' ||
      typeof documentId !== 'string'
    )
      return;
    if (
      !TOKEN.test(tenant) ||
      !TOKEN.test(collection) ||
      documentId === '' ||
      documentId.length > 1024
    )
      return;
    // Pipeline events carry the version; on the event log it is the sequence itself.
    const version = typeof data.version === 'number' ? data.version : d.seq;
    const ref = { tenant, collection, documentId };
    await publisher.event(
      subjects.status(ref),
      'sluice.document.status.v1',
      {
        ...ref,
        version,
        stage: 'failed',
        at: new Date().toISOString(),
        ...(typeof data.part === 'number' ? { part: data.part } : {}),
        error: { code: f.code, message: f.message.slice(0, 2048), consumer },
      },
      `status:failed:${consumer}:${version}:${typeof data.part === 'number' ? data.part : 0}`,
    );
  };
}
