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

/** One row of the binary format, written into one buffer. */
export function copyRow(fields: CopyField[]): Buffer {
  // Strings are encoded once to know their length; fixed-size fields are sized directly.
  const encoded: (Buffer | null)[] = fields.map((f) =>
    'text' in f
      ? f.text === null
        ? null
        : Buffer.from(f.text, 'utf8')
      : 'jsonb' in f
        ? Buffer.from(f.jsonb, 'utf8')
        : null,
  );
  let size = 2;
  fields.forEach((f, i) => {
    size += 4;
    if ('text' in f) size += encoded[i]?.length ?? 0;
    else if ('jsonb' in f) size += 1 + encoded[i]!.length;
    else if ('int4' in f) size += 4;
    else if ('int8' in f) size += 8;
    else size += 4 + f.vector.length * 4;
  });
  const b = Buffer.allocUnsafe(size);
  let o = b.writeInt16BE(fields.length, 0);
  fields.forEach((f, i) => {
    if ('text' in f) {
      const v = encoded[i];
      if (v === null || v === undefined) o = b.writeInt32BE(-1, o);
      else {
        o = b.writeInt32BE(v.length, o);
        o += v.copy(b, o);
      }
    } else if ('jsonb' in f) {
      // jsonb's binary form: a version byte (1), then the JSON text.
      const v = encoded[i]!;
      o = b.writeInt32BE(v.length + 1, o);
      o = b.writeUInt8(1, o);
      o += v.copy(b, o);
    } else if ('int4' in f) {
      o = b.writeInt32BE(4, o);
      o = b.writeInt32BE(f.int4, o);
    } else if ('int8' in f) {
      o = b.writeInt32BE(8, o);
      o = b.writeBigInt64BE(BigInt(f.int8), o);
    } else {
      // pgvector's binary form: int16 dimensions, int16 unused, float4 big-endian each.
      const x = f.vector;
      o = b.writeInt32BE(4 + x.length * 4, o);
      o = b.writeInt16BE(x.length, o);
      o = b.writeInt16BE(0, o);
      for (let d = 0; d < x.length; d++) o = b.writeFloatBE(x[d]!, o);
    }
  });
  return b;
}
