import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';

/** The model name a collection's queries use, if one was activated. */
export async function activeModel(
  sql: Sql,
  tenant: string,
  collection: string,
): Promise<string | undefined> {
  const [row] = await sql<{ active_model: string }[]>`
    SELECT active_model FROM collection_models WHERE tenant = ${tenant} AND collection = ${collection}`;
  return row?.active_model;
}

export interface ModelCoverage {
  /** Documents of the collection (not deleted) in the documents read model. */
  documents: number;
  /** Of those, how many the model's index has at their current version. */
  indexed: number;
}

/** How much of a collection a model's index covers (name: any file of that model). */
export async function coverage(
  sql: Sql,
  tenant: string,
  collection: string,
  model: string,
): Promise<ModelCoverage> {
  const [row] = await sql<{ documents: number; indexed: number }[]>`
    SELECT count(*)::int AS documents,
           count(i.document_id)::int AS indexed
    FROM proj_documents d
    LEFT JOIN index_documents i
      ON i.tenant = d.tenant AND i.collection = d.collection AND i.document_id = d.document_id
     AND i.model_id LIKE ${`${model}@%`} AND i.version = d.version AND NOT i.deleted AND i.chunk_count = (
       SELECT count(*) FROM index_chunks c WHERE c.model_id = i.model_id AND c.tenant = i.tenant
         AND c.collection = i.collection AND c.document_id = i.document_id)
    WHERE d.tenant = ${tenant} AND d.collection = ${collection} AND d.status <> 'deleted' AND d.version > 0`;
  return row!;
}

/**
 * Switches a collection's queries to `model` in one step. Refuses while the model's
 * index does not cover the collection yet, unless forced.
 */
export async function activateModel(
  sql: Sql,
  tenant: string,
  collection: string,
  model: string,
  force = false,
): Promise<ModelCoverage> {
  const c = await coverage(sql, tenant, collection, model);
  if (c.indexed < c.documents && !force) {
    throw new SluiceError(
      'MODEL_NOT_READY',
      `${model} has indexed ${c.indexed} of ${c.documents} documents of ${tenant}/${collection}; wait (sluice models status) or force it`,
      { details: { ...c } },
    );
  }
  await sql`
    INSERT INTO collection_models (tenant, collection, active_model)
    VALUES (${tenant}, ${collection}, ${model})
    ON CONFLICT (tenant, collection) DO UPDATE SET
      previous_model = CASE WHEN collection_models.active_model <> EXCLUDED.active_model
                            THEN collection_models.active_model ELSE collection_models.previous_model END,
      active_model = EXCLUDED.active_model, updated_at = now()`;
  return c;
}

export async function activeAssignments(
  sql: Sql,
): Promise<{ tenant: string; collection: string; model: string; previous: string | null }[]> {
  const rows = await sql<
    { tenant: string; collection: string; active_model: string; previous_model: string | null }[]
  >`
    SELECT tenant, collection, active_model, previous_model FROM collection_models ORDER BY tenant, collection`;
  return rows.map((r) => ({
    tenant: r.tenant,
    collection: r.collection,
    model: r.active_model,
    previous: r.previous_model,
  }));
}
