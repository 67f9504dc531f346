/**
 * The packed-vector wire format of sluice.vectors.v1: float32 little-endian, row after
 * row, base64. About 4/3 of the raw bytes, a fifth of a JSON number array.
 */
export function packVectors(vectors: Float32Array[], dimensions: number): string {
  const out = Buffer.allocUnsafe(vectors.length * dimensions * 4);
  vectors.forEach((v, i) => {
    if (v.length !== dimensions)
      throw new Error(`vector ${i} has ${v.length} dimensions, expected ${dimensions}`);
    for (let d = 0; d < dimensions; d++) out.writeFloatLE(v[d]!, (i * dimensions + d) * 4);
  });
  return out.toString('base64');
}

/** Rows of a packed string; throws when its length is not rows × dimensions floats. */
export function unpackVectors(packed: string, rows: number, dimensions: number): Float32Array[] {
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.length !== rows * dimensions * 4) {
    throw new Error(
      `packed vectors hold ${bytes.length} bytes, expected ${rows} × ${dimensions} × 4`,
    );
  }
  const out: Float32Array[] = [];
  for (let i = 0; i < rows; i++) {
    const v = new Float32Array(dimensions);
    for (let d = 0; d < dimensions; d++) v[d] = bytes.readFloatLE((i * dimensions + d) * 4);
    out.push(v);
  }
  return out;
}
