/**
 * When a collection's fusion weight is (re)chosen by self-calibration. A weight chosen
 * on judged queries or set by hand is never replaced; a self-calibrated one is chosen
 * again when the collection has doubled or halved since (its statistics, and which side
 * is stronger, move with its size). A new model is a new (collection, model) pair with
 * no weight yet, so it is calibrated as soon as it has enough chunks.
 */
export interface StoredFusion {
  calibration: Record<string, unknown> | null;
}

/** Chunks a collection needs before it is self-calibrated. @defaultValue 50 */
export const MIN_CHUNKS = 50;
/** Growth or shrinkage (factor) after which a self-calibrated weight is chosen again. */
export const RECALIBRATE_FACTOR = 2;

export function needsSelfCalibration(stored: StoredFusion | undefined, chunks: number): boolean {
  if (chunks < MIN_CHUNKS) return false;
  if (!stored) return true;
  const c = stored.calibration;
  if (c?.source !== 'self-calibrated') return false;
  const then = typeof c.chunks === 'number' && c.chunks > 0 ? c.chunks : 0;
  if (then === 0) return true;
  return chunks >= then * RECALIBRATE_FACTOR || chunks * RECALIBRATE_FACTOR <= then;
}
