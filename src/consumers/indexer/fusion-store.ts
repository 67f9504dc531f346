import type { Sql } from '../../db/index.js';

export interface FusionSetting {
  vectorWeight: number;
  /** How it was chosen, when `sluice eval --calibrate` chose it. */
  calibration: Record<string, unknown> | null;
  updatedAt: Date;
}

/** The hybrid fusion weight stored for a collection and model, if any. */
export async function getFusion(
  sql: Sql,
  tenant: string,
  collection: string,
  modelId: string,
): Promise<FusionSetting | undefined> {
  const [row] = await sql<
    {
      vector_weight: number;
      calibration: Record<string, unknown> | null;
      updated_at: Date | string;
    }[]
  >`
    SELECT vector_weight, calibration, updated_at FROM search_fusion
    WHERE tenant = ${tenant} AND collection = ${collection} AND model_id = ${modelId}`;
  return row
    ? {
        vectorWeight: row.vector_weight,
        calibration: row.calibration,
        updatedAt: new Date(row.updated_at),
      }
    : undefined;
}

export async function setFusion(
  sql: Sql,
  key: { tenant: string; collection: string; modelId: string },
  vectorWeight: number,
  calibration: Record<string, unknown> | null,
): Promise<void> {
  await sql`
    INSERT INTO search_fusion (tenant, collection, model_id, vector_weight, calibration)
    VALUES (${key.tenant}, ${key.collection}, ${key.modelId}, ${vectorWeight}, ${calibration === null ? null : JSON.stringify(calibration)}::jsonb)
    ON CONFLICT (tenant, collection, model_id) DO UPDATE SET
      vector_weight = EXCLUDED.vector_weight, calibration = EXCLUDED.calibration, updated_at = now()`;
}

export async function deleteFusion(
  sql: Sql,
  key: { tenant: string; collection: string; modelId: string },
): Promise<boolean> {
  const rows = await sql`
    DELETE FROM search_fusion
    WHERE tenant = ${key.tenant} AND collection = ${key.collection} AND model_id = ${key.modelId}`;
  return rows.count > 0;
}
