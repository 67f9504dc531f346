import {
  fromMessage,
  validateEvent,
  validatePipelineEvent,
  type PipelineEvent,
  type PipelineEventType,
  type SluiceEvent,
} from '../contracts/index.js';
import { SluiceError } from '../errors/index.js';
import { docKey, type DocRef, type Subjects } from '../topology/index.js';
import type { Delivery } from './consumer.js';

/**
 * The subject must name the document the data names: a message on the wrong subject
 * (a foreign client) would break per-document ordering, so it is refused for good.
 */
function checkSubject(d: Delivery, subjects: Subjects, ref: DocRef): void {
  const parsed = subjects.parse(d.subject);
  if (
    parsed === undefined ||
    parsed.tenant !== ref.tenant ||
    parsed.collection !== ref.collection ||
    parsed.key !== docKey(ref.documentId)
  ) {
    throw new SluiceError(
      'EVENT_SUBJECT_MISMATCH',
      `subject ${d.subject} does not match ${ref.tenant}/${ref.collection}/${ref.documentId}`,
    );
  }
}

/** A document event from the event log, validated (permanent errors for bad input). */
export function decodeDocumentEvent(d: Delivery, subjects: Subjects): SluiceEvent {
  const event = validateEvent(fromMessage(d));
  checkSubject(d, subjects, event.data);
  return event;
}

/** A pipeline event of the expected type, validated, on a subject that matches it. */
export function decodePipelineEvent<T extends PipelineEventType>(
  d: Delivery,
  subjects: Subjects,
  type: T,
): PipelineEvent<T> {
  const event = validatePipelineEvent(fromMessage(d), type);
  checkSubject(d, subjects, event.data);
  return event;
}
