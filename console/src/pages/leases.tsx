import { useState } from 'preact/hooks';
import { get, post, type Json } from '../api';
import { Action, Empty, ErrorBox, Loading, Time, useLoad } from '../ui';

const PAGE = 100;

/** Live leases in expiry order, filtered server-side and paged by cursor (never all rows at once). */
export function Leases() {
  const [filters, setFilters] = useState({ mount: '', owner: '', entity_id: '', state: '' });
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [message, setMessage] = useState<string>();
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => get('sys/governance/leases', { ...filters, after: cursor, limit: PAGE }), [JSON.stringify(filters), cursor]);
  const irrevocable = useLoad(() => get('sys/leases', { type: 'irrevocable', limit: 100 }), []);
  const leases = (page.value?.data?.leases ?? []) as Json[];
  const next = page.value?.data?.next as string | null | undefined;
  const done = (what: string) => (error?: string) => {
    setMessage(error ? `${what} failed: ${error}` : `${what}: done`);
    page.reload();
    irrevocable.reload();
  };

  const onFilter = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilters({ mount: String(form.get('mount') ?? ''), owner: String(form.get('owner') ?? ''), entity_id: String(form.get('entity_id') ?? ''), state: String(form.get('state') ?? '') });
    setCursors([undefined]);
  };

  return (
    <section>
      <h1>Leases</h1>
      <form class="filters" onSubmit={onFilter} aria-label="Filter leases">
        <label>Mount<input name="mount" placeholder="database/" defaultValue={filters.mount} /></label>
        <label>Owner<input name="owner" defaultValue={filters.owner} /></label>
        <label>Holder (entity id)<input name="entity_id" defaultValue={filters.entity_id} /></label>
        <label>State
          <select name="state" defaultValue={filters.state}>
            <option value="">live (not revoked)</option>
            <option value="active">active</option>
            <option value="revoking">revoking</option>
            <option value="irrevocable">irrevocable</option>
            <option value="revoked">revoked</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {message && <p class="notice" role="status">{message}</p>}
      <ErrorBox error={page.error} />
      {page.loading && !page.value && <Loading what="leases" />}
      {page.value && leases.length === 0 && <Empty>No lease matches. Leases appear here when a secret engine issues one (for example <code>database/creds/…</code>).</Empty>}
      {leases.length > 0 && (
        <table class="leases">
          <thead>
            <tr><th>Lease</th><th>State</th><th>Holder</th><th>Owner</th><th>Expires</th><th>Actions</th></tr>
          </thead>
          <tbody>
            {leases.map((l) => (
              <tr key={l.lease_id} data-lease-id={l.lease_id}>
                <td class="mono">{l.lease_id}</td>
                <td>{l.state}</td>
                <td>{l.entity_id ? <a href={`#/identities/${encodeURIComponent(l.entity_id)}`}>{l.entity_id.slice(0, 8)}</a> : <span class="muted">—</span>}</td>
                <td>{l.owner ?? <span class="muted">—</span>}</td>
                <td><Time iso={l.expire_time} /></td>
                <td class="actions">
                  {l.state === 'active' && l.renewable && <Action label="Renew" run={() => post('sys/leases/renew', { lease_id: l.lease_id })} onDone={done(`Renew ${l.lease_id}`)} />}
                  {l.state !== 'revoked' && <Action label="Revoke" danger confirm={`Revoke ${l.lease_id}?`} run={() => post('sys/leases/revoke', { lease_id: l.lease_id })} onDone={done(`Revoke ${l.lease_id}`)} />}
                  {(l.state === 'irrevocable' || l.state === 'revoking') && (
                    <Action label="Force-revoke" danger confirm={`Force-revoke forgets ${l.lease_id} without the backend's confirmation. Continue?`} run={() => post(`sys/leases/revoke-force/${l.lease_id}`)} onDone={done(`Force-revoke ${l.lease_id}`)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <span class="muted">page {cursors.length}</span>
        <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>Next</button>
      </div>

      <h2>Irrevocable queue</h2>
      {irrevocable.error && <p class="muted">{irrevocable.error.startsWith('permission denied') ? 'Needs sudo on sys/leases.' : irrevocable.error}</p>}
      {irrevocable.value && ((irrevocable.value.data?.leases ?? []) as Json[]).length === 0 && <Empty>Nothing is stuck: every revocation the backends were asked for has succeeded.</Empty>}
      {irrevocable.value && ((irrevocable.value.data?.leases ?? []) as Json[]).length > 0 && (
        <table>
          <thead><tr><th>Lease</th><th>Attempts</th><th>Last error</th></tr></thead>
          <tbody>
            {((irrevocable.value.data?.leases ?? []) as Json[]).map((l) => (
              <tr key={l.lease_id}><td class="mono">{l.lease_id}</td><td>{l.attempts}</td><td>{l.error}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
