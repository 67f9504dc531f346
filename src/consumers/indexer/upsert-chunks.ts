import type { Sql } from '../../db/index.js';
import { copyHeader, copyRow, copyTrailer } from '../../db/index.js';
import { unpackVectors, type VectorsV1 } from '../../contracts/index.js';

/** Chunk rows encoded between two turns of the event loop (see upsertChunks). */
const UPSERT_SLICE = 128;

/**
 * Upserts chunk rows through a temporary stage table loaded with binary COPY (vectors
 * as float4, no text formatting here or parsing in pgvector), then one INSERT … ON
 * CONFLICT from it. Rows are encoded a slice at a time, giving the event loop a turn
 * between slices: a batch of big documents is thousands of rows.
 */
export async function upsertChunks(
  tx: Sql,
  chunks: string,
  rows: { p: VectorsV1; j: number }[],
): Promise<void> {
  await tx`
    CREATE TEMP TABLE IF NOT EXISTS sluice_chunk_stage (
      m text, t text, c text, d text, i int4, id text, v int8, h text, tx text, hd jsonb,
      pg jsonb, ti text, ur text, md jsonb, e vector) ON COMMIT DELETE ROWS`;
  // Each part's vectors are unpacked once.
  const unpacked = new Map<VectorsV1, Float32Array[]>();
  const vector = ({ p, j }: { p: VectorsV1; j: number }): Float32Array => {
    let v = unpacked.get(p);
    if (!v) {
      v = unpackVectors(p.vectors, p.chunks.length, p.dimensions);
      unpacked.set(p, v);
    }
    return v[j]!;
  };
  const copy = await tx`COPY sluice_chunk_stage FROM STDIN (FORMAT binary)`.writable();
  const done = new Promise<void>((resolve, reject) => {
    copy.once('finish', resolve);
    copy.once('error', reject);
  });
  const write = (b: Buffer): Promise<void> =>
    new Promise((resolve, reject) => copy.write(b, (err) => (err ? reject(err) : resolve())));
  await write(copyHeader());
  for (let s = 0; s < rows.length; s += UPSERT_SLICE) {
    const slice = rows.slice(s, s + UPSERT_SLICE).map((r) => {
      const c = r.p.chunks[r.j]!;
      return copyRow([
        { text: r.p.model },
        { text: r.p.tenant },
        { text: r.p.collection },
        { text: r.p.documentId },
        { int4: c.index },
        { text: c.id },
        { int8: r.p.version },
        { text: c.hash },
        { text: c.text },
        { jsonb: JSON.stringify(c.headings) },
        { jsonb: JSON.stringify(c.pages ?? []) },
        { text: r.p.document.title ?? null },
        { text: r.p.document.uri ?? null },
        { jsonb: JSON.stringify(r.p.document.metadata ?? {}) },
        { vector: vector(r) },
      ]);
    });
    await write(Buffer.concat(slice));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  copy.end(copyTrailer());
  await done;
  await tx`
    INSERT INTO ${tx(chunks)} AS x (model_id, tenant, collection, document_id, chunk_index, chunk_id, version,
                              content_hash, text, headings, pages, title, uri, metadata, embedding, tsv)
    SELECT m, t, c, d, i, id, v, h, tx, ARRAY(SELECT jsonb_array_elements_text(hd)),
           ARRAY(SELECT jsonb_array_elements_text(pg)::int), ti, ur, md, e,
           to_tsvector('english'::regconfig,
             coalesce(ti, '') || ' ' || array_to_string(ARRAY(SELECT jsonb_array_elements_text(hd)), ' ') || ' ' || tx)
    FROM sluice_chunk_stage
    ON CONFLICT (model_id, tenant, collection, document_id, chunk_index) DO UPDATE SET
      chunk_id = EXCLUDED.chunk_id, version = EXCLUDED.version, content_hash = EXCLUDED.content_hash,
      text = EXCLUDED.text, headings = EXCLUDED.headings, pages = EXCLUDED.pages, title = EXCLUDED.title, uri = EXCLUDED.uri,
      metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding, tsv = EXCLUDED.tsv
    WHERE x.version <= EXCLUDED.version`;
  // The stage empties itself at commit (ON COMMIT DELETE ROWS), and a rolled-back
  // transaction's rows were never there.
}
