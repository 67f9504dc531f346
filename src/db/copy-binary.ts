/**
 * PostgreSQL's binary COPY format, for bulk loads that skip text parsing on both sides:
 * a vector goes as its 1,536 bytes instead of ~5,000 characters formatted here and
 * parsed again by pgvector. Only the types Sluice loads: text, int4, int8, jsonb and
 * pgvector's `vector`.
 */
export type CopyField =
  | { text: string | null }
  | { int4: number }
  | { int8: number }
  | { jsonb: string }
  | { vector: Float32Array };

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The header: signature, flags (no OIDs) and an empty extension area. */
export function copyHeader(): Buffer {
  const b = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(b, 0);
  return b;
}

/** The trailer: a tuple with field count -1. */
export function copyTrailer(): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(-1, 0);
  return b;
}

/** One row of the binary format. */
export function copyRow(fields: CopyField[]): Buffer {
  const parts: Buffer[] = [];
  let size = 2;
  const values: (Buffer | null)[] = fields.map((f) => {
    let v: Buffer | null;
    if ('text' in f) v = f.text === null ? null : Buffer.from(f.text, 'utf8');
    else if ('int4' in f) {
      v = Buffer.allocUnsafe(4);
      v.writeInt32BE(f.int4, 0);
    } else if ('int8' in f) {
      v = Buffer.allocUnsafe(8);
      v.writeBigInt64BE(BigInt(f.int8), 0);
    } else if ('jsonb' in f) {
      // jsonb's binary form: a version byte (1), then the JSON text.
      const text = Buffer.from(f.jsonb, 'utf8');
      v = Buffer.allocUnsafe(text.length + 1);
      v[0] = 1;
      text.copy(v, 1);
    } else {
      // pgvector's binary form: int16 dimensions, int16 unused, float4 big-endian each.
      const x = f.vector;
      v = Buffer.allocUnsafe(4 + x.length * 4);
      v.writeInt16BE(x.length, 0);
      v.writeInt16BE(0, 2);
      for (let i = 0; i < x.length; i++) v.writeFloatBE(x[i]!, 4 + i * 4);
    }
    size += 4 + (v?.length ?? 0);
    return v;
  });
  const head = Buffer.allocUnsafe(2);
  head.writeInt16BE(fields.length, 0);
  parts.push(head);
  for (const v of values) {
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(v === null ? -1 : v.length, 0);
    parts.push(len);
    if (v !== null) parts.push(v);
  }
  return Buffer.concat(parts, size);
}
