import { useEffect, useState } from 'preact/hooks';
import { events, get } from '../api.js';
import { Chart } from '../chart.js';
import { Alert, describe, Loading, Stat, useLoad } from '../components.js';
import { bytes, duration, num } from '../format.js';
import type { DurableStatus, HistoryPoint, PipelineStatus } from '../types.js';

/** The stages in flow order: the stream each reads, and which durables do the work. */
const stages: { name: string; reads: string; match: (d: string) => boolean }[] = [
  { name: 'Chunk', reads: 'events', match: (d) => d === 'chunker' },
  { name: 'Embed', reads: 'chunks', match: (d) => d.startsWith('embedder-') },
  { name: 'Index', reads: 'vectors', match: (d) => d === 'indexer' },
  { name: 'Project', reads: 'events + status', match: (d) => d.startsWith('proj-') },
  { name: 'Output', reads: 'events + status', match: (d) => d.startsWith('output-') },
];

const isRetry = (d: DurableStatus): boolean => d.durable.endsWith('-retry');

function StageCard(props: {
  name: string;
  reads: string;
  durables: DurableStatus[];
  parked: number;
}) {
  const ds = props.durables;
  const sum = (f: (d: DurableStatus) => number) => ds.reduce((n, d) => n + f(d), 0);
  const rates = ds.map((d) => d.rate).filter((r): r is number => r !== null);
  const eta = ds.some((d) => d.etaSeconds === null && d.pending + d.ackPending > 0)
    ? null
    : Math.max(0, ...ds.map((d) => d.etaSeconds ?? 0));
  const behind = sum((d) => d.pending) > 0;
  return (
    <section class={`stage${behind ? ' behind' : ''}`} aria-label={`${props.name} stage`}>
      <h3>{props.name}</h3>
      <p class="muted">reads {props.reads}</p>
      <div class="stats">
        <Stat
          label="pending"
          value={num(sum((d) => d.pending))}
          hint="not delivered yet (the backlog)"
        />
        <Stat
          label="in flight"
          value={num(sum((d) => d.ackPending))}
          hint="delivered, not acknowledged"
        />
        <Stat label="redelivered" value={num(sum((d) => d.redelivered))} />
        <Stat label="msgs/s" value={rates.length ? num(rates.reduce((a, b) => a + b, 0)) : '—'} />
        <Stat label="to drain" value={duration(eta)} />
        <Stat
          label="parked"
          value={num(props.parked)}
          hint="waiting in the retry stream for a later attempt"
        />
        <Stat label="dead letters" value={num(sum((d) => d.deadLetters))} />
      </div>
      <details>
        <summary>{ds.length} durable(s)</summary>
        <ul class="plain">
          {ds.map((d) => (
            <li key={d.durable}>
              <code>{d.durable}</code>{' '}
              {d.state === 'missing' ? '(missing)' : `${num(d.pending)} pending`}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}

export function PipelinePage() {
  const [status, setStatus] = useState<PipelineStatus>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const abort = new AbortController();
    // Live over Server-Sent Events (a reading every 2 s); reconnects after a failure.
    const connect = (): void => {
      events(
        '/v1/pipeline/stream',
        (event, data) => {
          if (event === 'pipeline') {
            setStatus(data as PipelineStatus);
            setError(undefined);
          }
        },
        abort.signal,
      ).catch((err: unknown) => {
        if (abort.signal.aborted) return;
        setError(describe(err));
        setTimeout(connect, 2_000);
      });
    };
    connect();
    return () => abort.abort();
  }, []);
  const history = useLoad(
    () => get<{ points: HistoryPoint[] }>('/v1/metrics/history?minutes=15'),
    [],
    5_000,
  );

  return (
    <div>
      <h1>Pipeline</h1>
      {error && <Alert>{error}</Alert>}
      {!status ? (
        <Loading />
      ) : (
        <>
          <p class="muted" aria-live="polite">
            Updated {new Date(status.at).toLocaleTimeString()} · live (every 2 s)
          </p>
          <div class="flow">
            {stages.map((s, i) => {
              const ds = status.durables.filter((d) => !isRetry(d) && s.match(d.durable));
              const parked = status.durables
                .filter((d) => isRetry(d) && s.match(d.durable.replace(/-retry$/, '')))
                .reduce((n, d) => n + d.pending + d.ackPending, 0);
              return (
                <>
                  {i > 0 && i < 3 && (
                    <span class="arrow" aria-hidden="true">
                      →
                    </span>
                  )}
                  {i === 3 && <span class="break" />}
                  <StageCard
                    key={s.name}
                    name={s.name}
                    reads={s.reads}
                    durables={ds}
                    parked={parked}
                  />
                </>
              );
            })}
          </div>
          <h2>Processes</h2>
          {status.processes.length === 0 ? (
            <p class="muted">No process has written a heartbeat lately.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Process</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Up since</th>
                  <th scope="col">Last beat</th>
                  <th scope="col">Memory</th>
                  <th scope="col">Breakers open</th>
                </tr>
              </thead>
              <tbody>
                {status.processes.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <code>{p.id}</code>
                    </td>
                    <td>{p.roles.join(', ')}</td>
                    <td>{new Date(p.startedAt).toLocaleString()}</td>
                    <td>{p.lastBeatSeconds} s ago</td>
                    <td>{bytes(p.rssBytes)}</td>
                    <td class={p.openBreakers.length ? 'bad' : ''}>
                      {p.openBreakers.length === 0
                        ? 'none'
                        : p.openBreakers
                            .map(
                              (b) =>
                                `${b.dependency} since ${new Date(b.since).toLocaleTimeString()}`,
                            )
                            .join(', ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      <h2>Last 15 minutes</h2>
      {history.error && <Alert>{history.error}</Alert>}
      {history.data && <Charts points={history.data.points} />}
    </div>
  );
}

function Charts({ points }: { points: HistoryPoint[] }) {
  if (points.length < 2)
    return <p class="muted">Charts appear after the first readings (one every 5 s).</p>;
  const t = points.map((p) => p.t);
  const durable = (match: (d: string) => boolean) =>
    points.map((p) =>
      Object.entries(p.durables)
        .filter(([d]) => match(d) && !d.endsWith('-retry'))
        .reduce((n, [, v]) => n + v, 0),
    );
  return (
    <div class="charts">
      <Chart
        title="Messages per second per stage"
        unit=""
        times={t}
        series={[
          { label: 'chunk', values: durable((d) => d === 'chunker') },
          { label: 'embed', values: durable((d) => d.startsWith('embedder-')) },
          { label: 'index', values: durable((d) => d === 'indexer') },
          { label: 'project', values: durable((d) => d === 'proj-documents-status') },
        ]}
      />
      <Chart
        title="Documents per second reaching a stage"
        unit=""
        times={t}
        series={[
          { label: 'chunked', values: points.map((p) => p.documents.chunked) },
          { label: 'embedded', values: points.map((p) => p.documents.embedded) },
          { label: 'indexed', values: points.map((p) => p.documents.indexed) },
        ]}
      />
      <Chart
        title="Chunks per second"
        unit=""
        times={t}
        series={[
          { label: 'embedded', values: points.map((p) => p.chunks.embedded) },
          { label: 'indexed', values: points.map((p) => p.chunks.indexed) },
        ]}
      />
      <Chart
        title="Tokens embedded per second"
        unit=""
        times={t}
        series={[{ label: 'tokens/s', values: points.map((p) => p.tokens) }]}
      />
      <Chart
        title="Search latency"
        unit=" ms"
        times={t}
        series={[
          { label: 'p50', values: points.map((p) => p.search.p50) },
          { label: 'p99', values: points.map((p) => p.search.p99) },
        ]}
      />
    </div>
  );
}
