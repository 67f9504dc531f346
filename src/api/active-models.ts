import { coverageCounts, modelCoverage, type ModelCoverage } from '../consumers/indexer/index.js';
import type { Sql } from '../db/index.js';
import { SluiceError } from '../errors/index.js';
import { listCollections, liveDocumentVersions } from '../projections/index.js';

export type { ModelCoverage } from '../consumers/indexer/index.js';

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

/** How much of a collection a model's index covers (name: any file of that model). */
export async function coverage(
  sql: Sql,
  tenant: string,
  collection: string,
  model: string,
): Promise<ModelCoverage> {
  return modelCoverage(
    sql,
    tenant,
    collection,
    model,
    liveDocumentVersions(sql, tenant, collection),
  );
}

export interface CollectionModels {
  collection: string;
  active: string | null;
  previous: string | null;
  /** Per model name: its coverage of the collection. */
  coverage: Record<string, ModelCoverage>;
}

/**
 * A tenant's collections with their active and previous model and each model's coverage,
 * in three queries whatever the number of collections, models and documents: documents
 * from the collections read model, indexed ones from the indexer's coverage counter (the
 * complete documents of every file of the model, at most the documents). While a change
 * is on its way the two may disagree for a moment; {@link coverage} is the exact scan
 * that activation checks.
 */
export async function collectionModels(
  sql: Sql,
  tenant: string,
  models: string[],
): Promise<CollectionModels[]> {
  const [assigned, collections, counts] = await Promise.all([
    sql<{ collection: string; active_model: string; previous_model: string | null }[]>`
      SELECT collection, active_model, previous_model FROM collection_models WHERE tenant = ${tenant}`,
    listCollections(sql, tenant),
    coverageCounts(sql, tenant),
  ]);
  return collections.map((c) => {
    const a = assigned.find((x) => x.collection === c.name);
    const byId = [...(counts.get(c.name) ?? new Map<string, number>()).entries()];
    return {
      collection: c.name,
      active: a?.active_model ?? null,
      previous: a?.previous_model ?? null,
      coverage: Object.fromEntries(
        models.map((name) => {
          const indexed = byId
            .filter(([id]) => id.startsWith(`${name}@`))
            .reduce((sum, [, n]) => sum + n, 0);
          return [
            name,
            { documents: c.documentCount, indexed: Math.min(indexed, c.documentCount) },
          ];
        }),
      ),
    };
  });
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
