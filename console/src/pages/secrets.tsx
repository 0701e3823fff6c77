import { useState } from 'preact/hooks';
import { call, get, list, type Json } from '../api';
import { Empty, ErrorBox, Loading, Time, errorText, useLoad } from '../ui';

const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
const href = (mount: string, path: string) => `#/secrets/${encodeURIComponent(mount)}${path ? `/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}` : ''}${path.endsWith('/') ? '/' : ''}`;

/** KV v2 mounts → folders → a secret (values hidden until asked for) with its versions and metadata. */
export function Secrets({ route }: { route: string[] }) {
  const mount = route[0];
  if (!mount) return <Mounts />;
  const path = route.slice(1).join('/');
  const isFolder = path === '' || window.location.hash.endsWith('/');
  return isFolder ? <Folder mount={mount} path={path ? `${path}/` : ''} /> : <Secret mount={mount} path={path} />;
}

function Mounts() {
  const mounts = useLoad(() => get('sys/mounts'), []);
  const data = (mounts.value?.data ?? {}) as Record<string, Json>;
  const kv = Object.entries(data).filter(([, m]) => m && m.type === 'kv' && String(m.options?.version ?? '1') === '2');
  return (
    <section>
      <h1>Secrets</h1>
      <ErrorBox error={mounts.error} />
      {mounts.loading && !mounts.value && <Loading what="mounts" />}
      {mounts.value && kv.length === 0 && <Empty>No KV v2 mount is visible to this token.</Empty>}
      <ul class="list">{kv.map(([path, m]) => <li key={path}><a href={href(path.replace(/\/$/, ''), '')}>{path}</a> <span class="muted small">{m.description}</span></li>)}</ul>
    </section>
  );
}

function Folder({ mount, path }: { mount: string; path: string }) {
  const keys = useLoad(() => list(`${mount}/metadata/${enc(path)}`), [mount, path]);
  const [name, setName] = useState('');
  const items = (keys.value?.data?.keys ?? []) as string[];
  return (
    <section>
      <Crumbs mount={mount} path={path} />
      <ErrorBox error={keys.error} />
      {keys.loading && !keys.value && <Loading what="secrets" />}
      {keys.value && items.length === 0 && <Empty>Nothing here yet.</Empty>}
      <ul class="list">
        {items.slice(0, 1000).map((k) => <li key={k}><a href={href(mount, path + k)}>{k}</a></li>)}
      </ul>
      {items.length > 1000 && <p class="muted">Showing 1,000 of {items.length}.</p>}
      <form class="inline" onSubmit={(e) => { e.preventDefault(); if (name.trim()) window.location.hash = href(mount, path + name.trim().replace(/^\/+/, '')); }}>
        <label>New secret<input value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} placeholder="name" /></label>
        <button type="submit">Create</button>
      </form>
    </section>
  );
}

function Crumbs({ mount, path }: { mount: string; path: string }) {
  const parts = path.split('/').filter(Boolean);
  return (
    <nav class="crumbs" aria-label="Path">
      <a href="#/secrets">Secrets</a> / <a href={href(mount, '')}>{mount}</a>
      {parts.map((p, i) => <span key={i}> / <a href={href(mount, `${parts.slice(0, i + 1).join('/')}/`)}>{p}</a></span>)}
    </nav>
  );
}

function Secret({ mount, path }: { mount: string; path: string }) {
  const secret = useLoad(() => get(`${mount}/data/${enc(path)}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))), [mount, path]);
  const metadata = useLoad(() => get(`${mount}/metadata/${enc(path)}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))), [mount, path]);
  const [shown, setShown] = useState<Record<string, boolean>>({});
  const [draft, setDraft] = useState<string>();
  const [message, setMessage] = useState<string>();
  const data = (secret.value?.data?.data ?? null) as Record<string, unknown> | null;
  const versions = (metadata.value?.data?.versions ?? {}) as Record<string, Json>;
  const save = async (event: Event) => {
    event.preventDefault();
    try {
      const parsed = JSON.parse(draft ?? '{}') as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the new version must be a JSON object of keys and values');
      const answer = await call('POST', `${mount}/data/${enc(path)}`, { body: { data: parsed } });
      setMessage(`Saved version ${answer.data?.version}.`);
      setDraft(undefined);
      setShown({});
      secret.reload();
      metadata.reload();
    } catch (error) {
      setMessage(`Save failed: ${errorText(error)}`);
    }
  };
  return (
    <section>
      <Crumbs mount={mount} path={path.split('/').slice(0, -1).join('/')} />
      <h1 class="mono">{path}</h1>
      <ErrorBox error={secret.error} />
      {secret.loading && !secret.value && <Loading what="the secret" />}
      {secret.value === null && <Empty>No current version: write the first one below.</Empty>}
      {data && (
        <table class="kv">
          <thead><tr><th>Key</th><th>Value</th></tr></thead>
          <tbody>
            {Object.entries(data).map(([k, v]) => (
              <tr key={k}>
                <td class="mono">{k}</td>
                <td>
                  {shown[k] ? <code class="value">{typeof v === 'string' ? v : JSON.stringify(v)}</code> : <span class="muted">••••••••</span>}{' '}
                  <button type="button" onClick={() => setShown({ ...shown, [k]: !shown[k] })} aria-label={`${shown[k] ? 'Hide' : 'Show'} ${k}`}>{shown[k] ? 'Hide' : 'Show'}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {message && <p class="notice" role="status">{message}</p>}
      {draft === undefined ? (
        <button type="button" onClick={() => setDraft(JSON.stringify(data ?? { key: 'value' }, null, 2))}>Write a new version</button>
      ) : (
        <form onSubmit={save} class="editor">
          <label>New version (JSON)<textarea rows={8} value={draft} onInput={(e) => setDraft((e.currentTarget as HTMLTextAreaElement).value)} spellcheck={false} /></label>
          <button type="submit" class="primary">Save</button> <button type="button" onClick={() => setDraft(undefined)}>Cancel</button>
        </form>
      )}
      <h2>Versions</h2>
      <ErrorBox error={metadata.error} />
      {Object.keys(versions).length > 0 && (
        <table>
          <thead><tr><th>Version</th><th>Created</th><th>Deleted</th><th>Destroyed</th></tr></thead>
          <tbody>
            {Object.entries(versions).sort((a, b) => Number(b[0]) - Number(a[0])).map(([v, m]) => (
              <tr key={v}><td>{v}{Number(v) === metadata.value?.data?.current_version && <span class="badge">current</span>}</td><td><Time iso={m.created_time} /></td><td>{m.deletion_time ? <Time iso={m.deletion_time} /> : '—'}</td><td>{m.destroyed ? 'yes' : 'no'}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      {metadata.value?.data && (
        <dl class="facts">
          <dt>Max versions</dt><dd>{metadata.value.data.max_versions || 'default'}</dd>
          <dt>Custom metadata</dt><dd class="mono">{JSON.stringify(metadata.value.data.custom_metadata ?? {})}</dd>
        </dl>
      )}
    </section>
  );
}
