import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, currentToken, setToken, type Json } from './api';
import { Approvals } from './pages/approvals';
import { Entity, Identities } from './pages/identities';
import { Leases } from './pages/leases';
import { Ledger } from './pages/ledger';
import { Overview } from './pages/overview';
import { Secrets } from './pages/secrets';
import { SignIn } from './pages/sign-in';
import './styles.css';

const PAGES: [string, string][] = [
  ['overview', 'Overview'],
  ['leases', 'Leases'],
  ['identities', 'Identities'],
  ['approvals', 'Approvals'],
  ['ledger', 'Ledger'],
  ['secrets', 'Secrets'],
];

/** The route is the hash: #/page/rest… (nothing secret ever goes there). */
function useRoute(): string[] {
  const parse = () => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function App() {
  const [self, setSelf] = useState<Json | null>(null);
  const [checking, setChecking] = useState(currentToken() !== null);
  const route = useRoute();

  useEffect(() => {
    if (currentToken() === null) return;
    call('GET', 'auth/token/lookup-self').then(
      (r) => setSelf(r.data as Json),
      () => setToken(null),
    ).finally(() => setChecking(false));
  }, []);

  if (checking) return <p class="muted">Checking your session…</p>;
  if (self === null) return <SignIn onSignedIn={(data) => { setSelf(data); if (!window.location.hash) window.location.hash = '#/overview'; }} />;

  const page = route[0] ?? 'overview';
  const signOut = () => {
    setToken(null);
    setSelf(null);
    window.location.hash = '';
  };
  return (
    <div class="layout">
      <header>
        <a class="brand" href="#/overview">Leasehold</a>
        <nav aria-label="Main">
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={page === id ? 'page' : undefined}>{label}</a>
          ))}
        </nav>
        <span class="who" title={`accessor ${String(self.accessor ?? '')}`}>{String(self.display_name || 'token')}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <main id="main">
        {page === 'overview' && <Overview />}
        {page === 'leases' && <Leases />}
        {page === 'identities' && (route[1] ? <Entity id={route[1]} /> : <Identities />)}
        {page === 'approvals' && <Approvals self={self} />}
        {page === 'ledger' && <Ledger />}
        {page === 'secrets' && <Secrets route={route.slice(1)} />}
        {!PAGES.some(([id]) => id === page) && <p class="empty">No such page. <a href="#/overview">Go to the overview.</a></p>}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
