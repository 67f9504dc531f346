import { createHash } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TextRef } from '../../contracts/index.js';
import { SluiceError, type ErrorCode } from '../../errors/index.js';
import { docKey } from '../../topology/index.js';

/**
 * Claim check: a large text goes into a JetStream object store and the event carries a
 * reference (bucket, name, size, sha256), so no stream ever holds a multi-MB message.
 */
export class ClaimCheck {
  private store: Promise<ObjectStore> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly bucket: string,
    /** What a bad reference fails with: TEXT_REF_INVALID (bodies) or FILE_REF_INVALID (raw files). */
    private readonly refError: ErrorCode = 'TEXT_REF_INVALID',
  ) {}

  private open(): Promise<ObjectStore> {
    this.store ??= new Objm(this.nc).open(this.bucket).catch((err: unknown) => {
      this.store = undefined;
      throw err;
    });
    return this.store;
  }

  put(name: string, text: string): Promise<TextRef> {
    return this.putBytes(name, Buffer.from(text, 'utf8'));
  }

  async putBytes(name: string, bytes: Uint8Array): Promise<TextRef> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const store = await this.open();
    // Same name, same content: a retried put is harmless.
    await store.putBlob({ name, description: `sha256:${sha256}` }, bytes);
    return { bucket: this.bucket, name, size: bytes.length, sha256 };
  }

  /**
   * The text a reference points to, checked against its size and sha256. `owner.prefix`
   * pins it to one document's bodies (claimCheckPrefix).
   */
  async get(ref: TextRef, owner?: { prefix: string }): Promise<string> {
    return Buffer.from(await this.getBytes(ref, owner)).toString('utf8');
  }

  /** The bytes a reference points to, checked like get(). */
  async getBytes(ref: TextRef, owner?: { prefix: string }): Promise<Uint8Array> {
    // Only this installation's bucket, and (given an owner) only the owner's bodies.
    if (ref.bucket !== this.bucket || (owner && !ref.name.startsWith(owner.prefix))) {
      throw new SluiceError(
        this.refError,
        `claim-checked ${ref.bucket}/${ref.name} is not this document's (expected ${this.bucket}/${owner?.prefix ?? ''}…)`,
      );
    }
    const store = await this.open();
    const bytes = await store.getBlob(ref.name);
    if (bytes === null) {
      throw new SluiceError(this.refError, `claim-checked ${ref.bucket}/${ref.name} is missing`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== ref.size || sha256 !== ref.sha256) {
      throw new SluiceError(
        this.refError,
        `claim-checked ${ref.bucket}/${ref.name} does not match its size or sha256`,
      );
    }
    return bytes;
  }
}

/** Where a document's claim-checked bodies are named: tenant/collection/document key/. */
export function claimCheckPrefix(ref: {
  tenant: string;
  collection: string;
  documentId: string;
}): string {
  return `${ref.tenant}/${ref.collection}/${docKey(ref.documentId)}/`;
}
