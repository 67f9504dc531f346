import { useState } from 'preact/hooks';
import { enc, get } from '../api.js';
import { Alert, Loading, useLoad } from '../components.js';
import { documentHref } from '../route.js';
import { bytes, num, time } from '../format.js';
import type { Collection, DocumentView } from '../types.js';

const statuses = ['received', 'chunked', 'embedded', 'indexed', 'failed', 'deleted'] as const;

export function CollectionsPage() {
  const { data, error } = useLoad(() => get<{ items: Collection[] }>('/v1/collections'), [], 2_000);
  return (
    <div>
      <h1>Collections</h1>
      {error && <Alert>{error}</Alert>}
      {!data ? (
        <Loading />
      ) : data.items.length === 0 ? (
        <p class="muted">No collections yet: publish a document.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Collection</th>
              <th scope="col">Documents</th>
              {statuses.map((s) => (
                <th scope="col" key={s}>
                  {s}
                </th>
              ))}
              <th scope="col">Chunks</th>
              <th scope="col">Size</th>
              <th scope="col">Last event</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((c) => (
              <tr key={c.name} data-collection={c.name}>
                <th scope="row">
                  <a href={`#/collections/${enc(c.name)}`}>{c.name}</a>
                </th>
                <td>{num(c.documentCount)}</td>
                {statuses.map((s) => (
                  <td key={s} data-status={s} class={s === 'failed' && c.statuses[s] ? 'bad' : ''}>
                    {num(c.statuses[s] ?? 0)}
                  </td>
                ))}
                <td>{num(c.chunkCount)}</td>
                <td>{bytes(c.bytes)}</td>
                <td>{time(c.lastEventAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function CollectionPage({ name }: { name: string }) {
  const [status, setStatus] = useState('');
  const [cursor, setCursor] = useState<string | null>(null);
  const [stack, setStack] = useState<(string | null)[]>([]);
  const q = `/v1/documents?collection=${enc(name)}&limit=50${status ? `&status=${status}` : ''}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
  const { data, error } = useLoad(
    () => get<{ items: DocumentView[]; next: string | null }>(q),
    [q],
    5_000,
  );
  return (
    <div>
      <p>
        <a href="#/collections">← Collections</a>
      </p>
      <h1>{name}</h1>
      <label>
        Status{' '}
        <select
          value={status}
          onChange={(e) => {
            setStatus((e.target as HTMLSelectElement).value);
            setCursor(null);
            setStack([]);
          }}
        >
          <option value="">any</option>
          {statuses.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      {error && <Alert>{error}</Alert>}
      {!data ? (
        <Loading />
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Document</th>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Chunks</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <a href={documentHref(name, d.id)}>{d.title ?? d.id}</a>
                  </th>
                  <td>{d.version}</td>
                  <td class={d.status === 'failed' ? 'bad' : ''}>{d.status}</td>
                  <td>{num(d.chunkCount)}</td>
                  <td>{time(d.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="actions">
            <button
              type="button"
              disabled={stack.length === 0}
              onClick={() => {
                setCursor(stack.at(-1) ?? null);
                setStack(stack.slice(0, -1));
              }}
            >
              Previous
            </button>
            <button
              type="button"
              disabled={!data.next}
              onClick={() => {
                setStack([...stack, cursor]);
                setCursor(data.next);
              }}
            >
              Next
            </button>
          </div>
        </>
      )}
    </div>
  );
}
