import { quotedName, type Sql } from '../../db/index.js';

/**
 * BM25 parameters. k1 0.9 and b 0.4 are Anserini's defaults for BEIR-style passages;
 * on SciFact's train split they did as well as any pair tried (docs/search.md).
 */
export const BM25 = { k1: 0.9, b: 0.4 } as const;

/** Where the keyword index lives (a replay writes shadow copies). */
export interface KeywordTables {
  scopes: string;
  terms: string;
  postings: string;
}

export const keywordTables: KeywordTables = {
  scopes: 'keyword_scopes',
  terms: 'keyword_terms',
  postings: 'keyword_postings',
};

/** SQL for a scope id from the model, tenant and collection columns of a row or unnest. */
export const scopeOf = (m: string, t: string, c: string): string =>
  `hashtextextended(${m} || E'\\x1f' || ${t} || E'\\x1f' || ${c}, 0)`;

/**
 * One term's BM25 weight without idf, for a term frequency, a length and an average
 * length. Float literals throughout: numeric arithmetic made queries half again slower.
 */
export const impactSql = (tf: string, length: string, avg: string): string =>
  `${tf} * ${BM25.k1 + 1}::float8 / (${tf} + ${BM25.k1}::float8 * (${1 - BM25.b}::float8 + ${BM25.b}::float8 * ${length} / greatest(${avg}, 1)))`;

/** The keys of chunk rows: parallel arrays (model, tenant, collection, document, index). */
export interface ChunkKeys {
  m: string[];
  t: string[];
  c: string[];
  d: string[];
  /** An exact chunk index, or with `from`, the first of a range to the end. */
  i: number[];
}

/**
 * Keeps the keyword index in step with the chunk rows, inside the indexer's transaction:
 * `remove` before chunk rows are replaced or deleted (it reads their old tsv), `add`
 * after they are written (it reads the new one). Both move the scope statistics
 * (chunks, total length, document frequencies) by exactly what they change, so the
 * statistics stay true through updates, deletions and redeliveries.
 *
 * Every statement that changes a term's postings writes its row in keyword_terms, which
 * gives it a new generation (gen): what lets the API keep lists in memory and stay exact.
 *
 * Writers of one scope take its advisory lock (in scope order, after the document rows
 * the indexer already locked), so concurrent indexers never deadlock on term rows.
 */
export class KeywordIndex {
  constructor(
    private readonly tables: KeywordTables,
    private readonly chunksTable: string,
  ) {}

  /** Locks the scopes of these (model, tenant, collection) columns, in scope order. */
  async lock(tx: Sql, keys: Pick<ChunkKeys, 'm' | 't' | 'c'>): Promise<void> {
    await tx`
      SELECT pg_advisory_xact_lock(s) FROM (
        SELECT DISTINCT ${tx.unsafe(scopeOf('m', 't', 'c'))} AS s
        FROM unnest(${keys.m}::text[], ${keys.t}::text[], ${keys.c}::text[]) AS u(m, t, c)) x
      ORDER BY s`;
  }

  /**
   * Removes the postings of existing chunk rows: for `exact`, the rows at those indexes;
   * for `from`, every row at or past the index.
   */
  async remove(tx: Sql, exact: ChunkKeys, from: ChunkKeys): Promise<void> {
    if (exact.m.length === 0 && from.m.length === 0) return;
    const C = quotedName(this.chunksTable);
    const { scopes, terms, postings } = this.tables;
    await tx.unsafe(
      `
      WITH old AS (
        SELECT x.model_id, x.tenant, x.collection, x.document_id, x.chunk_index, x.tsv
        FROM ${C} x JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS u(m, t, c, d, i)
          ON x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d AND x.chunk_index = u.i
        UNION
        SELECT x.model_id, x.tenant, x.collection, x.document_id, x.chunk_index, x.tsv
        FROM ${C} x JOIN unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::int[]) AS u(m, t, c, d, i)
          ON x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d AND x.chunk_index >= u.i),
      gone AS (
        DELETE FROM ${quotedName(postings)} p
        USING (SELECT ${scopeOf('o.model_id', 'o.tenant', 'o.collection')} AS scope, o.document_id, o.chunk_index, l.lexeme
               FROM old o, unnest(o.tsv) AS l) o
        WHERE p.scope = o.scope AND p.term = o.lexeme AND p.document_id = o.document_id AND p.chunk_index = o.chunk_index
        RETURNING p.scope, p.term, p.document_id, p.chunk_index, p.length),
      dn AS (SELECT scope, term, count(*)::int AS n FROM gone GROUP BY 1, 2),
      df AS (
        UPDATE ${quotedName(terms)} k SET df = k.df - dn.n, gen = nextval('keyword_gen') FROM dn
        WHERE k.scope = dn.scope AND k.term = dn.term AND k.df > dn.n),
      df0 AS (
        DELETE FROM ${quotedName(terms)} k USING dn
        WHERE k.scope = dn.scope AND k.term = dn.term AND k.df <= dn.n),
      sn AS (
        SELECT scope, count(*) AS n, sum(length) AS len
        FROM (SELECT DISTINCT scope, document_id, chunk_index, length FROM gone) z GROUP BY scope),
      sc AS (
        UPDATE ${quotedName(scopes)} s SET chunks = s.chunks - sn.n, total_length = s.total_length - sn.len
        FROM sn WHERE s.scope = sn.scope AND s.chunks > sn.n)
      -- A scope or term left with no chunk goes, as if it had never been (a replay never makes it).
      DELETE FROM ${quotedName(scopes)} s USING sn WHERE s.scope = sn.scope AND s.chunks <= sn.n`,
      [
        exact.m,
        exact.t,
        exact.c,
        exact.d,
        exact.i,
        from.m,
        from.t,
        from.c,
        from.d,
        from.i,
      ] as never[],
    );
  }

  /** Adds the postings of the chunk rows at these keys, as they now are. */
  async add(tx: Sql, keys: ChunkKeys): Promise<void> {
    if (keys.m.length === 0) return;
    await tx.unsafe(
      this.addSql(
        `SELECT x.model_id, x.tenant, x.collection, x.document_id, x.chunk_index, x.tsv
         FROM ${quotedName(this.chunksTable)} x
         JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) AS u(m, t, c, d, i)
           ON x.model_id = u.m AND x.tenant = u.t AND x.collection = u.c AND x.document_id = u.d AND x.chunk_index = u.i`,
      ),
      [keys.m, keys.t, keys.c, keys.d, keys.i] as never[],
    );
  }

  /**
   * The statements that fill empty keyword tables from the chunk rows `rows` selects (the
   * columns of {@link addSql}): the bulk path of a rebuild. Same rows as `addSql` over
   * empty tables, about twice as fast: each chunk's scope and length are computed once
   * from its row rather than joined back to its postings, and the document frequencies
   * are counted from the postings once they are written.
   */
  rebuildSql(rows: string): string[] {
    const { scopes, terms, postings } = this.tables;
    const tf = 'coalesce(array_length(l.positions, 1), 1)';
    return [
      `
      WITH c AS MATERIALIZED (
        SELECT ${scopeOf('n.model_id', 'n.tenant', 'n.collection')} AS scope, n.model_id, n.tenant,
               n.collection, n.document_id, n.chunk_index, n.tsv, len.length
        FROM (${rows}) n,
             LATERAL (SELECT sum(${tf})::int AS length FROM unnest(n.tsv) AS l) len
        -- A chunk without a lexeme has no posting, and counts in no scope (as in addSql).
        WHERE len.length IS NOT NULL),
      sc AS (
        INSERT INTO ${quotedName(scopes)} AS s (scope, model_id, tenant, collection, chunks, total_length, impact_avg)
        SELECT scope, model_id, tenant, collection, count(*), sum(length), greatest(sum(length)::float8 / count(*), 1)
        FROM c GROUP BY 1, 2, 3, 4
        RETURNING s.scope, s.total_length::float8 / greatest(s.chunks, 1) AS avg)
      INSERT INTO ${quotedName(postings)} (scope, term, document_id, chunk_index, tf, length, impact)
      SELECT c.scope, l.lexeme, c.document_id, c.chunk_index, ${tf}, c.length, ${impactSql(tf, 'c.length', 'sc.avg')}
      FROM c JOIN sc USING (scope), unnest(c.tsv) AS l`,
      `INSERT INTO ${quotedName(terms)} (scope, term, df)
       SELECT scope, term, count(*) FROM ${quotedName(postings)} GROUP BY 1, 2`,
    ];
  }

  /**
   * The statement that adds the postings of the chunk rows `rows` selects (columns
   * model_id, tenant, collection, document_id, chunk_index, tsv). The migration that
   * created the index uses it to fill it from the existing rows.
   */
  addSql(rows: string): string {
    const { scopes, terms, postings } = this.tables;
    return `
      WITH new AS (${rows}),
      t AS (
        SELECT ${scopeOf('n.model_id', 'n.tenant', 'n.collection')} AS scope, n.model_id, n.tenant, n.collection,
               n.document_id, n.chunk_index, l.lexeme AS term, coalesce(array_length(l.positions, 1), 1) AS tf
        FROM new n, unnest(n.tsv) AS l),
      len AS (
        SELECT scope, model_id, tenant, collection, document_id, chunk_index, sum(tf)::int AS length
        FROM t GROUP BY 1, 2, 3, 4, 5, 6),
      sc AS (
        INSERT INTO ${quotedName(scopes)} AS s (scope, model_id, tenant, collection, chunks, total_length, impact_avg)
        SELECT scope, model_id, tenant, collection, count(*), sum(length), greatest(sum(length)::float8 / count(*), 1)
        FROM len GROUP BY 1, 2, 3, 4
        ON CONFLICT (scope) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks,
          total_length = s.total_length + EXCLUDED.total_length,
          -- The impacts below use the new average: the smallest one ever used bounds them all.
          impact_avg = least(s.impact_avg, greatest((s.total_length + EXCLUDED.total_length)::float8
                                                    / greatest(s.chunks + EXCLUDED.chunks, 1), 1))
        RETURNING s.scope, s.total_length::float8 / greatest(s.chunks, 1) AS avg),
      df AS (
        INSERT INTO ${quotedName(terms)} AS k (scope, term, df)
        SELECT scope, term, count(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (scope, term) DO UPDATE SET df = k.df + EXCLUDED.df, gen = EXCLUDED.gen)
      INSERT INTO ${quotedName(postings)} (scope, term, document_id, chunk_index, tf, length, impact)
      SELECT t.scope, t.term, t.document_id, t.chunk_index, t.tf, len.length, ${impactSql('t.tf', 'len.length', 'sc.avg')}
      FROM t JOIN len USING (scope, document_id, chunk_index) JOIN sc USING (scope)`;
  }
}
