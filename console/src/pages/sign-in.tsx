import { useState } from 'preact/hooks';
import { call, setToken, type Json } from '../api';
import { errorText } from '../ui';

/** Sign in with a token, or with an AppRole role id and secret id (the token it returns is kept in this tab only). */
export function SignIn({ onSignedIn }: { onSignedIn: (self: Json) => void }) {
  const [method, setMethod] = useState<'token' | 'approle'>('token');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      let token = String(form.get('token') ?? '').trim();
      if (method === 'approle') {
        const mount = String(form.get('mount') ?? 'approle').replace(/^\/+|\/+$/g, '') || 'approle';
        const login = await call('POST', `auth/${encodeURIComponent(mount)}/login`, { body: { role_id: form.get('role_id'), secret_id: form.get('secret_id') }, token: null });
        token = String(login.auth?.client_token ?? '');
      }
      if (!token) throw new Error('enter a token');
      const self = await call('GET', 'auth/token/lookup-self', { token });
      setToken(token);
      (event.currentTarget as HTMLFormElement | null)?.reset();
      onSignedIn(self.data as Json);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Leasehold</h1>
      <p class="muted">Sign in to see leases, identities, approvals and the ledger.</p>
      <div role="tablist" class="tabs">
        <button type="button" role="tab" aria-selected={method === 'token'} onClick={() => setMethod('token')}>Token</button>
        <button type="button" role="tab" aria-selected={method === 'approle'} onClick={() => setMethod('approle')}>AppRole</button>
      </div>
      <form onSubmit={submit} autocomplete="off">
        {method === 'token' ? (
          <label>Token<input name="token" type="password" autocomplete="off" required autofocus /></label>
        ) : (
          <>
            <label>Mount<input name="mount" defaultValue="approle" /></label>
            <label>Role ID<input name="role_id" autocomplete="off" required /></label>
            <label>Secret ID<input name="secret_id" type="password" autocomplete="off" required /></label>
          </>
        )}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}
