import { docKey } from './doc-key.js';

export interface DocRef {
  tenant: string;
  collection: string;
  documentId: string;
}

/**
 * Every subject Sluice uses, under one namespace. Subjects carry tenant, collection
 * and document key so that a consumer can filter by tenant and each document keeps
 * its own order.
 *
 *   <ns>.events.<tenant>.<collection>.<docKey>          the event log (source of truth)
 *   <ns>.parsed.<tenant>.<collection>.<docKey>          parser → chunker (raw files as text)
 *   <ns>.chunks.<tenant>.<collection>.<docKey>          chunker → embedders
 *   <ns>.vectors.<model>.<tenant>.<collection>.<docKey> embedder → indexer (one model each)
 *   <ns>.status.<tenant>.<collection>.<docKey>          stage reports → projector
 *   <ns>.retry.<durable>                                parked for a later attempt
 *   <ns>.dlq.<durable>                                  dead letters
 */
export class Subjects {
  constructor(readonly namespace: string) {}

  private doc(kind: string, ref: DocRef): string {
    return `${this.namespace}.${kind}.${ref.tenant}.${ref.collection}.${docKey(ref.documentId)}`;
  }

  event(ref: DocRef): string {
    return this.doc('events', ref);
  }
  parsed(ref: DocRef): string {
    return this.doc('parsed', ref);
  }
  chunks(ref: DocRef): string {
    return this.doc('chunks', ref);
  }
  vectors(model: string, ref: DocRef): string {
    return `${this.namespace}.vectors.${model}.${ref.tenant}.${ref.collection}.${docKey(ref.documentId)}`;
  }
  status(ref: DocRef): string {
    return this.doc('status', ref);
  }
  retry(durable: string): string {
    return `${this.namespace}.retry.${durable}`;
  }
  dlq(durable: string): string {
    return `${this.namespace}.dlq.${durable}`;
  }

  /** Wildcards: all of a kind, or one tenant's. */
  all(kind: 'events' | 'parsed' | 'chunks' | 'status' | 'retry' | 'dlq', tenant?: string): string {
    return tenant === undefined
      ? `${this.namespace}.${kind}.>`
      : `${this.namespace}.${kind}.${tenant}.>`;
  }
  allVectors(model?: string): string {
    return model === undefined
      ? `${this.namespace}.vectors.>`
      : `${this.namespace}.vectors.${model}.>`;
  }

  /** Splits a document subject of any kind into its parts (the key, not the id). */
  parse(
    subject: string,
  ): { kind: string; tenant: string; collection: string; key: string } | undefined {
    const parts = subject.split('.');
    if (parts[0] !== this.namespace) return undefined;
    const offset = parts[1] === 'vectors' ? 1 : 0;
    if (parts.length !== 5 + offset) return undefined;
    return {
      kind: parts[1]!,
      tenant: parts[2 + offset]!,
      collection: parts[3 + offset]!,
      key: parts[4 + offset]!,
    };
  }
}
