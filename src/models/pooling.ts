/**
 * Mean pooling over the attention mask, then L2 normalisation: what
 * sentence-transformers and transformers.js `{ pooling: 'mean', normalize: true }` do.
 *
 * @param hidden last_hidden_state, [batch, seq, dim] row-major
 * @param mask attention mask, [batch, seq]
 */
export function meanPoolNormalize(
  hidden: Float32Array,
  mask: BigInt64Array | Int32Array,
  batch: number,
  seq: number,
  dim: number,
): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (Number(mask[b * seq + t]) === 0) continue;
      count++;
      const base = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) v[d]! += hidden[base + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      v[d]! /= Math.max(count, 1e-9);
      norm += v[d]! * v[d]!;
    }
    // A text made only of tokens with zero rows pools to 0: keep it 0, never NaN.
    const scale = 1 / Math.max(Math.sqrt(norm), 1e-12);
    for (let d = 0; d < dim; d++) v[d]! *= scale;
    out.push(v);
  }
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-12);
}
