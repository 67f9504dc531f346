import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { enc, get, post } from '../api.js';
import { Alert, describe, useLoad } from '../components.js';
import { documentHref } from '../route.js';
import type { Collection, FusionSetting, SearchResponse } from '../types.js';

/** Words of the query (3+ letters), to mark in the results. */
function termsOf(query: string): string[] {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? [])];
}

/** The text with the query's words marked: a word matches when it starts with a term's stem. */
export function highlight(text: string, terms: string[]): ComponentChildren[] {
  if (terms.length === 0) return [text];
  const stems = terms.map((t) => t.replace(/(ing|ed|es|s)$/u, '')).filter((t) => t.length >= 3);
  if (stems.length === 0) return [text];
  const escaped = stems.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(\\b(?:${escaped.join('|')})[\\p{L}\\p{N}]*)`, 'giu');
  return text.split(re).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part));
}

/** How hybrid search weighs its sides in a collection, and where that weight came from. */
export function fusionText(f: FusionSetting): string {
  const c = f.calibration ?? {};
  const how =
    f.source === 'self-calibrated'
      ? `self-calibrated on ${String(c.queries)} generated queries over ${String(c.chunks)} chunks`
      : f.source === 'calibrated'
        ? `calibrated on ${String(c.queries)} judged queries (${String(c.split)})`
        : f.source === 'configured'
          ? 'set by hand'
          : 'default: not calibrated yet';
  return `hybrid weight ${f.vectorWeight.toFixed(2)} vector / ${(1 - f.vectorWeight).toFixed(2)} keyword · ${how} · ${f.model}`;
}

export function SearchPage() {
  const collections = useLoad(() => get<{ items: Collection[] }>('/v1/collections'));
  const [query, setQuery] = useState('');
  const [collection, setCollection] = useState('');
  const [mode, setMode] = useState<'hybrid' | 'vector' | 'keyword'>('hybrid');
  const [k, setK] = useState(10);
  const [result, setResult] = useState<{ r: SearchResponse; ms: number; terms: string[] }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const fusion = useLoad(
    () =>
      collection
        ? get<FusionSetting>(`/v1/collections/${enc(collection)}/fusion`)
        : Promise.resolve(undefined),
    [collection],
  );
  const run = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!query.trim()) return;
    setBusy(true);
    setError(undefined);
    const t0 = performance.now();
    try {
      const r = await post<SearchResponse>('/v1/search', {
        query,
        mode,
        k,
        ...(collection ? { collection } : {}),
      });
      setResult({ r, ms: performance.now() - t0, terms: termsOf(query) });
    } catch (err) {
      setError(describe(err));
      setResult(undefined);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div>
      <h1>Search</h1>
      <form class="search" onSubmit={(e) => void run(e)} role="search">
        <label class="grow">
          Query{' '}
          <input
            type="search"
            name="query"
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <label>
          Collection{' '}
          <select
            name="collection"
            value={collection}
            onChange={(e) => setCollection((e.target as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {collections.data?.items.map((c) => (
              <option key={c.name}>{c.name}</option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Mode</legend>
          {(['hybrid', 'vector', 'keyword'] as const).map((m) => (
            <label key={m}>
              <input
                type="radio"
                name="mode"
                value={m}
                checked={mode === m}
                onChange={() => setMode(m)}
              />{' '}
              {m}
            </label>
          ))}
        </fieldset>
        <label>
          k{' '}
          <input
            type="number"
            name="k"
            min={1}
            max={100}
            value={k}
            onInput={(e) => setK(Number((e.target as HTMLInputElement).value) || 10)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Search
        </button>
      </form>
      {fusion.data && (
        <p class="muted" data-testid="fusion-setting">
          {fusionText(fusion.data)}
        </p>
      )}
      {error && <Alert>{error}</Alert>}
      {result && (
        <>
          <p class="muted" role="status" data-testid="search-summary">
            {result.r.results.length} result(s) · {result.r.mode} · {result.r.model} ·{' '}
            {result.r.fusion &&
              `vector weight ${result.r.fusion.vectorWeight.toFixed(2)} (${result.r.fusion.source}) · `}
            {result.r.tookMs.toFixed(1)} ms in the server, {result.ms.toFixed(0)} ms here
          </p>
          <ol class="results">
            {result.r.results.map((h) => (
              <li key={`${h.collection}/${h.documentId}/${h.chunkIndex}`}>
                <p>
                  <a href={documentHref(h.collection, h.documentId)}>{h.title ?? h.documentId}</a>{' '}
                  <span class="muted">
                    {h.collection} · chunk {h.chunkIndex} · score {h.score.toFixed(4)}
                  </span>
                </p>
                <p class="snippet">
                  {highlight(
                    h.text.length > 600 ? `${h.text.slice(0, 600)}…` : h.text,
                    result.terms,
                  )}
                </p>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
