import { Component, render, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, session } from './api.js';
import { Alert, describe } from './components.js';
import { CollectionPage, CollectionsPage } from './pages/collections.js';
import { DeadLetterPage, DeadLettersPage } from './pages/dead-letters.js';
import { DocumentPage } from './pages/document.js';
import { ModelsPage } from './pages/models.js';
import { PipelinePage } from './pages/pipeline.js';
import { ReplaysPage } from './pages/replays.js';
import { parseHash } from './route.js';
import { SearchPage } from './pages/search.js';
import type { Me } from './types.js';
import 'uplot/dist/uPlot.min.css';
import './style.css';

/** Pages by hash route; `who` says which keys see them (the server refuses the others). */
const nav: { path: string; label: string; who: (me: Me) => boolean }[] = [
  { path: 'pipeline', label: 'Pipeline', who: (me) => me.operator },
  { path: 'collections', label: 'Collections', who: () => true },
  { path: 'dead-letters', label: 'Dead letters', who: (me) => me.admin },
  { path: 'search', label: 'Search', who: () => true },
  { path: 'models', label: 'Models', who: () => true },
  { path: 'replays', label: 'Replays', who: (me) => me.operator },
];

function useHash(): string[] {
  const parse = () => parseHash(location.hash);
  const [parts, setParts] = useState(parse);
  useEffect(() => {
    const on = () => setParts(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parts;
}

function Login({ onLogin, error }: { onLogin: (key: string) => void; error?: string }) {
  const [key, setKey] = useState('');
  return (
    <main class="login">
      <h1>Sluice</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onLogin(key.trim());
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          autofocus
          placeholder="sk_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          required
        />
        <button type="submit">Sign in</button>
        <p class="muted">
          The key stays in this tab's session storage and is sent only to this server.
        </p>
        {error && <Alert>{error}</Alert>}
      </form>
    </main>
  );
}

function Page({ parts, me }: { parts: string[]; me: Me }) {
  const [page, a, b] = parts;
  const allowed = nav.find((n) => n.path === page);
  if (allowed && !allowed.who(me))
    return <Alert>This page needs an {page === 'dead-letters' ? 'admin' : 'operator'} key.</Alert>;
  switch (page) {
    case 'pipeline':
      return <PipelinePage />;
    case 'collections':
      return a ? <CollectionPage name={a} /> : <CollectionsPage />;
    case 'documents':
      return a && b !== undefined ? (
        <DocumentPage collection={a} id={parts.slice(2).join('/')} />
      ) : (
        <CollectionsPage />
      );
    case 'dead-letters':
      return a ? <DeadLetterPage id={Number(a)} me={me} /> : <DeadLettersPage me={me} />;
    case 'search':
      return <SearchPage />;
    case 'models':
      return <ModelsPage me={me} />;
    case 'replays':
      return <ReplaysPage />;
    case '':
      return me.operator ? <PipelinePage /> : <CollectionsPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no page at this address. <a href="#/">Go to the start page</a>.
      </p>
    </>
  );
}

/**
 * Whatever a page throws while rendering (an address it did not expect, a bug) shows as
 * an alert in the page instead of a blank window; the next address starts afresh.
 */
class PageBoundary extends Component<{ children: ComponentChildren }, { error?: string }> {
  override state: { error?: string } = {};
  override componentDidCatch(err: unknown): void {
    this.setState({ error: describe(err) });
  }
  override render() {
    return this.state.error ? (
      <Alert>This page failed: {this.state.error}</Alert>
    ) : (
      this.props.children
    );
  }
}

function App() {
  const [me, setMe] = useState<Me | null>();
  const [error, setError] = useState<string>();
  const parts = useHash();
  const check = (): void => {
    if (!session.key) return setMe(null);
    get<Me>('/v1/me').then(setMe, (err: unknown) => {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) session.clear();
      setError(describe(err));
      setMe(null);
    });
  };
  useEffect(check, []);
  if (me === undefined) return null;
  if (me === null)
    return (
      <Login
        error={error}
        onLogin={(key) => {
          session.set(key);
          setError(undefined);
          check();
        }}
      />
    );
  const current =
    parts[0] === 'documents'
      ? 'collections'
      : parts[0] || (me.operator ? 'pipeline' : 'collections');
  return (
    <>
      <header>
        <a href="#/" class="brand">
          Sluice
        </a>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((n) => n.who(me))
              .map((n) => (
                <li key={n.path}>
                  <a href={`#/${n.path}`} aria-current={current === n.path ? 'page' : undefined}>
                    {n.label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <span class="who" data-testid="who">
          {me.tenant} · {me.operator ? 'operator' : me.admin ? 'admin' : 'reader'}
        </span>
        <button
          type="button"
          onClick={() => {
            session.clear();
            setMe(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <PageBoundary key={parts.join('/')}>
          <Page parts={parts} me={me} />
        </PageBoundary>
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
