import { get, post } from '../api.js';
import { Alert, Confirm, Loading, Notice, useConfirmed, useLoad } from '../components.js';
import { duration, num } from '../format.js';
import type { ReplayProgress } from '../types.js';

const projections = ['documents', 'collections', 'index'] as const;
type Action = 'start' | 'resume' | 'cancel' | 'rollback';

export function ReplaysPage() {
  const { data, error, reload } = useLoad(
    () => get<{ items: ReplayProgress[] }>('/v1/replays'),
    [],
    2_000,
  );
  const action = useConfirmed(async (p: { projection: string; action: Action }) => {
    const path = `/v1/replays/${p.projection}`;
    if (p.action === 'start') await post(path, {});
    else if (p.action === 'resume') await post(path, { resume: true });
    else await post(`${path}/${p.action}`);
    reload();
    return `${p.projection}: ${p.action} requested`;
  });
  const pending = action.pending;
  const byName = new Map((data?.items ?? []).map((r) => [r.projection, r]));
  return (
    <div>
      <h1>Replays</h1>
      <p class="muted">
        A replay rebuilds a read model from its streams into shadow tables, then swaps them in.
      </p>
      {error && <Alert>{error}</Alert>}
      <Notice text={action.notice} />
      {!data ? (
        <Loading />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Projection</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Events/s</th>
              <th scope="col">ETA</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {projections.map((name) => {
              const r = byName.get(name);
              const running = r && ['running', 'swapped', 'cancelling'].includes(r.status);
              return (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{r?.status ?? 'never run'}</td>
                  <td>
                    {r ? (
                      <progress max={1} value={r.fraction} aria-label={`${name} replay progress`} />
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{r ? num(r.eventsPerSecond) : '—'}</td>
                  <td>{r ? duration(r.etaSeconds) : '—'}</td>
                  <td>
                    {!running && (
                      <button
                        type="button"
                        onClick={() => action.ask({ projection: name, action: 'start' })}
                      >
                        Start
                      </button>
                    )}
                    {running && (
                      <button
                        type="button"
                        onClick={() => action.ask({ projection: name, action: 'cancel' })}
                      >
                        Cancel
                      </button>
                    )}
                    {r && ['cancelled', 'interrupted', 'failed'].includes(r.status) && (
                      <button
                        type="button"
                        onClick={() => action.ask({ projection: name, action: 'resume' })}
                      >
                        Resume
                      </button>
                    )}
                    {r && r.status === 'done' && (
                      <button
                        type="button"
                        onClick={() => action.ask({ projection: name, action: 'rollback' })}
                      >
                        Roll back
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Confirm
        open={pending !== null}
        title={`${pending?.action ?? ''} the ${pending?.projection ?? ''} replay?`}
        confirmLabel={pending?.action ?? 'OK'}
        onConfirm={() => void action.confirm()}
        onCancel={action.cancel}
      >
        <p>
          {pending?.action === 'rollback'
            ? 'The previous tables come back, with what changed since the swap re-applied.'
            : pending?.action === 'cancel'
              ? 'The replay stops; its shadow tables stay, so it can resume later.'
              : 'It runs in the background in this API process; its progress shows here.'}
        </p>
      </Confirm>
    </div>
  );
}
