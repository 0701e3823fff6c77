import { useState } from 'preact/hooks';
import { get, list, post, type Json } from '../api';
import { BlastRadiusPicture } from '../blast-radius';
import { Action, Empty, ErrorBox, Loading, Time, useLoad } from '../ui';
import { LedgerTable } from './ledger';

export function Identities() {
  const entities = useLoad(() => list('identity/entity/id'), []);
  const groups = useLoad(() => list('identity/group/id'), []);
  const [filter, setFilter] = useState('');
  const keys = (entities.value?.data?.keys ?? []) as string[];
  const info = (entities.value?.data?.key_info ?? {}) as Record<string, Json>;
  const shown = keys.filter((id) => !filter || id.includes(filter) || String(info[id]?.name ?? '').includes(filter) || String(info[id]?.metadata?.owner ?? '').includes(filter));
  const groupKeys = (groups.value?.data?.keys ?? []) as string[];
  const groupInfo = (groups.value?.data?.key_info ?? {}) as Record<string, Json>;
  return (
    <section>
      <h1>Identities</h1>
      <label class="inline">Find<input type="search" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} placeholder="name, id or owner" /></label>
      <h2>Entities</h2>
      <ErrorBox error={entities.error} />
      {entities.loading && !entities.value && <Loading what="entities" />}
      {entities.value && keys.length === 0 && <Empty>No entity yet. Logins through AppRole and JWT create one per role or user; or create one at <code>identity/entity</code>.</Empty>}
      {shown.length > 0 && (
        <table>
          <thead><tr><th>Name</th><th>Owner</th><th>Id</th></tr></thead>
          <tbody>
            {shown.slice(0, 1000).map((id) => (
              <tr key={id}>
                <td><a href={`#/identities/${encodeURIComponent(id)}`}>{String(info[id]?.name ?? id)}</a></td>
                <td>{String(info[id]?.metadata?.owner ?? '') || <span class="muted">—</span>}</td>
                <td class="mono">{id}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown.length > 1000 && <p class="muted">Showing 1,000 of {shown.length}: narrow the search.</p>}
      <h2>Groups</h2>
      <ErrorBox error={groups.error} />
      {groups.value && groupKeys.length === 0 && <Empty>No group yet.</Empty>}
      {groupKeys.length > 0 && (
        <table>
          <thead><tr><th>Name</th><th>Id</th></tr></thead>
          <tbody>{groupKeys.map((id) => <tr key={id}><td>{String(groupInfo[id]?.name ?? id)}</td><td class="mono">{id}</td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}

export function Entity({ id }: { id: string }) {
  const entity = useLoad(() => get(`identity/entity/id/${encodeURIComponent(id)}`), [id]);
  const radius = useLoad(() => get(`sys/governance/blast-radius/${encodeURIComponent(id)}`), [id]);
  const [dryRun, setDryRun] = useState<Json>();
  const [result, setResult] = useState<string>();
  const [reason, setReason] = useState('');
  const e = entity.value?.data as Json | undefined;
  const r = radius.value?.data as Json | undefined;
  return (
    <section>
      <p><a href="#/identities">← Identities</a></p>
      <ErrorBox error={entity.error} />
      {entity.loading && !e && <Loading what="the entity" />}
      {e && (
        <>
          <h1>{e.name} {e.disabled && <span class="badge bad">disabled</span>}</h1>
          <dl class="facts">
            <dt>Id</dt><dd class="mono">{e.id}</dd>
            <dt>Owner</dt><dd>{e.metadata?.owner ?? <span class="muted">none</span>}</dd>
            <dt>Policies</dt><dd>{(e.policies ?? []).join(', ') || <span class="muted">none directly</span>}</dd>
            <dt>Aliases</dt><dd>{(e.aliases ?? []).map((a: Json) => `${a.name} (${a.mount_accessor})`).join(', ') || <span class="muted">none</span>}</dd>
          </dl>
        </>
      )}
      <h2>Blast radius</h2>
      <ErrorBox error={radius.error} />
      {r && <BlastRadiusPicture radius={r} />}
      {r && (
        <p class="muted" data-testid="blast-summary">
          {r.summary.mounts_reachable} mounts, {r.summary.paths_reachable} paths, {r.summary.roles_mintable} mintable roles, {r.summary.live_credentials} live credentials
        </p>
      )}
      <h2>Live tokens and leases</h2>
      {r && r.holds.tokens.length + r.holds.leases.length === 0 && <Empty>Holds nothing right now.</Empty>}
      {r && r.holds.tokens.length + r.holds.leases.length > 0 && (
        <table>
          <thead><tr><th>Kind</th><th>Id</th><th>Expires</th></tr></thead>
          <tbody>
            {r.holds.tokens.map((t: Json) => <tr key={t.accessor}><td>token</td><td class="mono">{t.accessor}</td><td><Time iso={t.expire_time} /></td></tr>)}
            {r.holds.leases.map((l: Json) => <tr key={l.lease_id}><td>lease</td><td class="mono">{l.lease_id}</td><td><Time iso={l.expire_time} /></td></tr>)}
          </tbody>
        </table>
      )}
      <h2>Offboard</h2>
      <p class="muted">Revokes every token and lease this entity holds, through the backends, and disables it. Shows what it would do first.</p>
      <form
        class="offboard"
        onSubmit={async (event) => {
          event.preventDefault();
          setResult(undefined);
          try {
            const answer = await post('sys/governance/offboard', { entity_id: id, reason: reason || 'dry run', dry_run: true });
            setDryRun(answer.data as Json);
          } catch (error) {
            setResult(`Dry run failed: ${error instanceof Error ? error.message : String(error)}`);
          }
        }}
      >
        <label>Reason<input name="reason" value={reason} onInput={(ev) => setReason((ev.currentTarget as HTMLInputElement).value)} placeholder="e.g. left the company, INC-1234" required maxLength={1024} /></label>
        <button type="submit">Dry run</button>
      </form>
      {dryRun && (
        <div class="dry-run" data-testid="offboard-dry-run">
          <p>Would revoke <strong>{dryRun.tokens_revoked}</strong> tokens and <strong>{dryRun.leases_revoked}</strong> leases, and disable <strong>{dryRun.entities_disabled}</strong> entities.</p>
          {(dryRun.leases ?? []).length > 0 && <ul class="mono small">{(dryRun.leases as string[]).slice(0, 50).map((l) => <li key={l}>{l}</li>)}</ul>}
          <Action
            label="Offboard now"
            danger
            confirm="Offboard this entity? Everything it holds is revoked."
            run={() => post('sys/governance/offboard', { entity_id: id, reason })}
            onDone={(error) => {
              setResult(error ? `Offboard failed: ${error}` : 'Offboarded: everything it held is revoked and the entity is disabled.');
              setDryRun(undefined);
              entity.reload();
              radius.reload();
            }}
          />
        </div>
      )}
      {result && <p class="notice" role="status">{result}</p>}
      <h2>Ledger</h2>
      <LedgerTable filters={{ entity_id: id }} />
    </section>
  );
}
