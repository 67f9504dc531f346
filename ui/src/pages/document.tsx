import { enc, get } from '../api.js';
import { Alert, Loading, useLoad } from '../components.js';
import { bytes, gap, num, time } from '../format.js';
import type { ChunkRow, DocumentView, LoggedEvent } from '../types.js';

const order = ['received', 'chunked', 'embedded', 'indexed', 'failed', 'deleted'] as const;

export function DocumentPage({ collection, id }: { collection: string; id: string }) {
  const base = `/v1/documents/${enc(collection)}/${enc(id)}`;
  const doc = useLoad(() => get<DocumentView>(base), [base], 3_000);
  const chunks = useLoad(() => get<{ items: ChunkRow[] }>(`${base}/chunks`), [base]);
  const log = useLoad(() => get<{ items: LoggedEvent[] }>(`${base}/events`), [base]);
  const d = doc.data;
  return (
    <div>
      <p>
        <a href={`#/collections/${enc(collection)}`}>← {collection}</a>
      </p>
      <h1>{d?.title ?? id}</h1>
      {doc.error && <Alert>{doc.error}</Alert>}
      {!d ? (
        !doc.error && <Loading />
      ) : (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{d.id}</code>
            </dd>
            <dt>Status</dt>
            <dd data-testid="document-status" class={d.status === 'failed' ? 'bad' : ''}>
              {d.status}
            </dd>
            <dt>Version</dt>
            <dd>{d.version}</dd>
            <dt>Model</dt>
            <dd>{d.modelId ?? '—'}</dd>
            <dt>Chunks</dt>
            <dd>{num(d.chunkCount)}</dd>
            <dt>Size</dt>
            <dd>{bytes(d.bytes)}</dd>
            {d.facts?.authors && d.facts.authors.length > 0 && (
              <>
                <dt>Authors</dt>
                <dd data-testid="document-authors">{d.facts.authors.join(', ')}</dd>
              </>
            )}
            {d.facts?.language && (
              <>
                <dt>Language</dt>
                <dd data-testid="document-language">{d.facts.language}</dd>
              </>
            )}
            {d.facts?.created && (
              <>
                <dt>Created</dt>
                <dd>{when(d.facts.created)}</dd>
              </>
            )}
            {d.facts?.modified && (
              <>
                <dt>Modified</dt>
                <dd>{when(d.facts.modified)}</dd>
              </>
            )}
          </dl>
          <h2>Stages</h2>
          <ol class="timeline">
            {order
              .filter((s) => d.stages[s])
              .map((s) => (
                <li key={s} class={s === 'failed' ? 'bad' : ''}>
                  <strong>{s}</strong> {time(d.stages[s])}{' '}
                  <span class="muted">{gap(d.stages.received, d.stages[s])}</span>
                </li>
              ))}
          </ol>
          {d.lastError && (
            <Alert>
              Last error in <code>{d.lastError.consumer}</code> at {time(d.lastError.at)}:{' '}
              <code>{d.lastError.code}</code> {d.lastError.message}
            </Alert>
          )}
        </>
      )}
      <h2>Events</h2>
      {log.error && <Alert>{log.error}</Alert>}
      {log.data && log.data.items.length === 0 && <p class="muted">No events for this document.</p>}
      {log.data && log.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Type</th>
              <th scope="col">Event id</th>
              <th scope="col">Source</th>
              <th scope="col">Stored</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>{e.type.replace(/^sluice\.document\./, '')}</td>
                <td>
                  <code>{e.id}</code>
                </td>
                <td>{e.source}</td>
                <td>{time(e.storedAt)}</td>
                <td>{bytes(e.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Chunks</h2>
      {chunks.error && <Alert>{chunks.error}</Alert>}
      {chunks.data &&
        (chunks.data.items.length === 0 ? (
          <p class="muted">Not in any index yet.</p>
        ) : (
          <ol class="chunks">
            {chunks.data.items.map((c, i, all) => (
              <li key={`${c.modelId}:${c.chunkIndex}`}>
                {pageBreak(all[i - 1], c) && <p class="page-break">page {c.pages[0]}</p>}
                <p class="muted">
                  #{c.chunkIndex} · {c.modelId} · version {c.version}
                  {c.pages.length > 0 && ` · ${pageRange(c.pages)}`}
                  {c.headings.length > 0 && ` · ${c.headings.join(' › ')}`}
                </p>
                <p>{c.text}</p>
              </li>
            ))}
          </ol>
        ))}
    </div>
  );
}

/** A page break goes before a chunk that starts on a later page than the last one ended. */
function pageBreak(prev: ChunkRow | undefined, c: ChunkRow): boolean {
  const first = c.pages[0];
  if (first === undefined) return false;
  return prev === undefined || prev.modelId !== c.modelId || (prev.pages.at(-1) ?? 0) < first;
}

const pageRange = (pages: number[]): string =>
  pages.length === 1 ? `p. ${pages[0]}` : `pp. ${pages[0]}–${pages.at(-1)}`;

/** A date the file gave: local time when it is one, else as the file wrote it (HTML meta). */
const when = (s: string): string => (Number.isNaN(Date.parse(s)) ? s : time(s));
