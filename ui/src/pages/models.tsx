import { enc, get, put } from '../api.js';
import { Alert, Confirm, Loading, Notice, useConfirmed, useLoad } from '../components.js';
import type { Me, ModelsView } from '../types.js';

export function ModelsPage({ me }: { me: Me }) {
  // Loaded once (and after a switch): coverage counts every document, which is not for polling.
  const { data, error, reload } = useLoad(() => get<ModelsView>('/v1/models'));
  const action = useConfirmed(
    async (p: { collection: string; model: string; rollback: boolean }) => {
      await put(`/v1/collections/${enc(p.collection)}/model`, { model: p.model });
      reload();
      return `${p.collection}: queries now use ${p.model}`;
    },
  );
  const pending = action.pending;
  return (
    <div>
      <h1>Models</h1>
      {error && <Alert>{error}</Alert>}
      <Notice text={action.notice} />
      {!data ? (
        <Loading />
      ) : (
        <>
          <h2>Served</h2>
          <ul class="plain">
            {data.served.map((m) => (
              <li key={m.name}>
                <code>{m.id}</code> · {m.dimensions} dimensions{m.default ? ' · default' : ''}
              </li>
            ))}
          </ul>
          <h2>Per collection</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Collection</th>
                <th scope="col">Active</th>
                {data.served.map((m) => (
                  <th scope="col" key={m.name}>
                    {m.name} coverage
                  </th>
                ))}
                {me.admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data.collections.map((c) => (
                <tr key={c.collection}>
                  <th scope="row">{c.collection}</th>
                  <td>
                    {c.active ?? `${data.served.find((m) => m.default)?.name ?? '—'} (default)`}
                  </td>
                  {data.served.map((m) => {
                    const cov = c.coverage[m.name];
                    const pct = cov && cov.documents > 0 ? (100 * cov.indexed) / cov.documents : 0;
                    return (
                      <td key={m.name}>
                        <progress
                          max={100}
                          value={pct}
                          aria-label={`${m.name} covers ${pct.toFixed(0)}% of ${c.collection}`}
                        />{' '}
                        {cov?.indexed ?? 0}/{cov?.documents ?? 0}
                      </td>
                    );
                  })}
                  {me.admin && (
                    <td>
                      {data.served
                        .filter(
                          (m) => m.name !== (c.active ?? data.served.find((x) => x.default)?.name),
                        )
                        .map((m) => (
                          <button
                            type="button"
                            key={m.name}
                            onClick={() =>
                              action.ask({
                                collection: c.collection,
                                model: m.name,
                                rollback: false,
                              })
                            }
                          >
                            Activate {m.name}
                          </button>
                        ))}
                      {c.previous && (
                        <button
                          type="button"
                          onClick={() =>
                            action.ask({
                              collection: c.collection,
                              model: c.previous!,
                              rollback: true,
                            })
                          }
                        >
                          Roll back to {c.previous}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <Confirm
        open={pending !== null}
        title={pending?.rollback ? 'Roll back the model?' : 'Activate the model?'}
        confirmLabel={pending?.rollback ? 'Roll back' : 'Activate'}
        onConfirm={() => void action.confirm()}
        onCancel={action.cancel}
      >
        <p>
          Queries of {pending?.collection} switch to {pending?.model} at once. It is refused while
          that model's index does not cover the collection.
        </p>
      </Confirm>
    </div>
  );
}
