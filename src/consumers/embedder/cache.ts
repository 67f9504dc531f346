import type { Sql } from '../../db/index.js';

/**
 * Vectors already computed, by (model id, sha256 of the embedded text). Hits skip the
 * model entirely; the cache outlives documents, so a chunk that moves between
 * documents or comes back in a new version costs nothing.
 */
export class EmbeddingCache {
  constructor(
    private readonly sql: Sql,
    private readonly modelId: string,
  ) {}

  async get(hashes: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (hashes.length === 0) return out;
    const rows = await this.sql<{ content_hash: string; vector: Buffer }[]>`
      SELECT content_hash, vector FROM embedder_cache
      WHERE model_id = ${this.modelId} AND content_hash = ANY(${hashes}::text[])`;
    for (const r of rows) {
      const copy = Buffer.from(r.vector); // aligned, owned bytes
      out.set(r.content_hash, new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4));
    }
    return out;
  }

  async put(entries: Map<string, Float32Array>): Promise<void> {
    if (entries.size === 0) return;
    const hashes = [...entries.keys()];
    // postgres.js cannot send an array of Buffers; hex text decodes server-side.
    const vectors = hashes.map((h) => {
      const v = entries.get(h)!;
      return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    });
    await this.sql`
      INSERT INTO embedder_cache (model_id, content_hash, vector)
      SELECT ${this.modelId}, h, decode(v, 'hex') FROM unnest(${hashes}::text[], ${vectors}::text[]) AS t(h, v)
      ON CONFLICT DO NOTHING`;
  }
}
