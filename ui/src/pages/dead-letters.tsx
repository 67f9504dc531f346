import { useState } from 'preact/hooks';
import { enc, get, post } from '../api.js';
import { Alert, Confirm, Loading, Notice, useConfirmed, useLoad } from '../components.js';
import { time } from '../format.js';
import type { Letter, LetterSummary, Me, RedriveJob } from '../types.js';

interface Filters {
  consumer: string;
  code: string;
  tenant: string;
}

type Ask = { title: string; body: string; run: () => Promise<string> };

export function DeadLettersPage({ me }: { me: Me }) {
  const [filters, setFilters] = useState<Filters>({ consumer: '', code: '', tenant: '' });
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const action = useConfirmed((p: Ask) => p.run());
  const [job, setJob] = useState<string>();
  const query = (Object.entries(filters) as [string, string][])
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `&${k}=${enc(v)}`)
    .join('');
  const list = useLoad(
    () =>
      get<{ items: LetterSummary[]; depth?: Record<string, number> }>(
        `/v1/dead-letters?limit=200${query}`,
      ),
    [query],
    3_000,
  );
  const jobState = useLoad(
    () =>
      job ? get<RedriveJob>(`/v1/dead-letters/redrive-jobs/${job}`) : Promise.resolve(undefined),
    [job],
    1_000,
  );
  const items = list.data?.items ?? [];
  const field = (k: keyof Filters, label: string) => (
    <label>
      {label}{' '}
      <input
        name={k}
        value={filters[k]}
        onChange={(e) =>
          setFilters({ ...filters, [k]: (e.target as HTMLInputElement).value.trim() })
        }
      />
    </label>
  );
  const redriveIds = (ids: number[]) => async () => {
    const r = await post<{ redriven: number[]; failed: { id: number; reason: string }[] }>(
      '/v1/dead-letters/redrive',
      { ids },
    );
    setSelected(new Set());
    list.reload();
    return `Redriven: ${r.redriven.length}${r.failed.length ? `; failed: ${r.failed.map((f) => `${f.id} (${f.reason})`).join(', ')}` : ''}`;
  };
  const redriveAllMatching = async (): Promise<string> => {
    // Consumer (or nothing) as the only filter: a background job over every letter.
    if (!filters.code && !filters.tenant) {
      const r = await post<RedriveJob>(
        '/v1/dead-letters/redrive',
        filters.consumer ? { consumer: filters.consumer } : { all: true },
      );
      setJob(r.id);
      return `Redrive job ${r.id} started`;
    }
    return redriveIds(items.map((l) => l.id))();
  };
  return (
    <div>
      <h1>Dead letters</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        {field('consumer', 'Consumer')}
        {field('code', 'Error code')}
        {me.operator && field('tenant', 'Tenant')}
      </form>
      {list.data?.depth && (
        <p class="muted">
          Waiting per consumer:{' '}
          {Object.entries(list.data.depth)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ') || 'none'}
        </p>
      )}
      <Notice text={action.notice} />
      {jobState.data && (
        <p role="status" class="notice">
          Job {jobState.data.id}: {jobState.data.status}, {jobState.data.redriven} redriven,{' '}
          {jobState.data.failed} failed
        </p>
      )}
      {list.error && <Alert>{list.error}</Alert>}
      {me.admin && (
        <div class="actions">
          <button
            type="button"
            disabled={selected.size === 0}
            onClick={() =>
              action.ask({
                title: 'Redrive the selected letters?',
                body: `${selected.size} letter(s) go back to their consumers now.`,
                run: redriveIds([...selected]),
              })
            }
          >
            Redrive selected ({selected.size})
          </button>
          <button
            type="button"
            disabled={items.length === 0}
            onClick={() =>
              action.ask({
                title: 'Redrive every matching letter?',
                body:
                  !filters.code && !filters.tenant
                    ? `Every letter${filters.consumer ? ` of ${filters.consumer}` : ''} goes back to its consumer, in a background job.`
                    : `The ${items.length} letter(s) listed go back to their consumers.`,
                run: redriveAllMatching,
              })
            }
          >
            Redrive all matching
          </button>
        </div>
      )}
      {!list.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <p class="muted">No dead letters{query ? ' match' : ''}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              {me.admin && (
                <th scope="col">
                  <span class="sr-only">Select</span>
                </th>
              )}
              <th scope="col">Id</th>
              <th scope="col">Consumer</th>
              <th scope="col">Code</th>
              <th scope="col">Document</th>
              <th scope="col">Attempts</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {items.map((l) => (
              <tr key={l.id} data-letter={l.id}>
                {me.admin && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select letter ${l.id}`}
                      checked={selected.has(l.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if ((e.target as HTMLInputElement).checked) next.add(l.id);
                        else next.delete(l.id);
                        setSelected(next);
                      }}
                    />
                  </td>
                )}
                <td>
                  <a href={`#/dead-letters/${l.id}`}>{l.id}</a>
                </td>
                <td>
                  <code>{l.consumer}</code>
                </td>
                <td>
                  <code>{l.code}</code>
                </td>
                <td>
                  {l.document
                    ? `${l.document.tenant}/${l.document.collection}/${l.document.documentId}`
                    : l.subject}
                </td>
                <td>{l.attempts}</td>
                <td>{time(l.failedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={action.pending !== null}
        title={action.pending?.title ?? ''}
        confirmLabel="Redrive"
        onConfirm={() => void action.confirm()}
        onCancel={action.cancel}
      >
        <p>{action.pending?.body}</p>
      </Confirm>
    </div>
  );
}

export function DeadLetterPage({ id, me }: { id: number; me: Me }) {
  const { data, error } = useLoad(() => get<Letter>(`/v1/dead-letters/${id}`), [id]);
  const redrive = useConfirmed(async (_: true) => {
    const r = await post<{ redriven: number[]; failed: { reason: string }[] }>(
      '/v1/dead-letters/redrive',
      { ids: [id] },
    );
    return r.redriven.length
      ? 'Redriven: it is back with its consumer.'
      : `Not redriven: ${r.failed[0]?.reason ?? 'unknown'}`;
  });
  return (
    <div>
      <p>
        <a href="#/dead-letters">← Dead letters</a>
      </p>
      <h1>Dead letter {id}</h1>
      {error && <Alert>{error}</Alert>}
      <Notice text={redrive.notice} />
      {!data ? (
        !error && <Loading />
      ) : (
        <>
          <dl class="facts">
            <dt>Consumer</dt>
            <dd>
              <code>{data.consumer}</code>
            </dd>
            <dt>Error</dt>
            <dd>
              <code>{data.code}</code> {data.message}
            </dd>
            <dt>Subject</dt>
            <dd>
              <code>{data.subject}</code> (seq {data.seq} of {data.stream})
            </dd>
            <dt>Redriven before</dt>
            <dd>{data.generation} time(s)</dd>
          </dl>
          {me.admin && !redrive.notice && (
            <button type="button" onClick={() => redrive.ask(true)}>
              Redrive
            </button>
          )}
          <h2>Attempts</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">At</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {data.history.map((h) => (
                <tr key={`${h.attempt}-${h.at}`}>
                  <td>{h.attempt}</td>
                  <td>{time(h.at)}</td>
                  <td>
                    <code>{h.code}</code>
                  </td>
                  <td>{h.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Payload ({data.dataEncoding})</h2>
          <pre class="payload">
            {data.dataEncoding === 'json' ? JSON.stringify(data.data, null, 2) : String(data.data)}
          </pre>
          <h2>Headers</h2>
          <pre class="payload">{JSON.stringify(data.headers, null, 2)}</pre>
        </>
      )}
      <Confirm
        open={redrive.pending !== null}
        title={`Redrive letter ${id}?`}
        confirmLabel="Redrive"
        onConfirm={() => void redrive.confirm()}
        onCancel={redrive.cancel}
      >
        <p>It goes back to {data?.consumer ?? 'its consumer'} now, its attempts reset.</p>
      </Confirm>
    </div>
  );
}
