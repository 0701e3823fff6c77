import { get, list, type Json } from '../api';
import { Card, ErrorBox, Loading, useLoad } from '../ui';

/** Each part loads on its own: a token that may not read one of them still sees the rest. */
async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await p };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export function Overview() {
  const { value, loading } = useLoad(async () => {
    const [seal, leader, summary, approvals, audit] = await Promise.all([
      settle(get('sys/seal-status')),
      settle(get('sys/leader')),
      settle(get('sys/governance/summary')),
      settle(list('sys/control-group/pending')),
      settle(get('sys/audit')),
    ]);
    return { seal, leader, summary, approvals, audit };
  }, []);
  if (loading && !value) return <Loading what="the overview" />;
  if (!value) return null;
  const seal = value.seal.value as Json | undefined;
  const leader = value.leader.value as Json | undefined;
  const summary = (value.summary.value?.data ?? {}) as Json;
  const pending = (value.approvals.value?.data?.keys ?? []) as string[];
  const audit = (value.audit.value?.data ?? value.audit.value ?? {}) as Json;
  const devices = Object.entries(audit).filter(([, d]) => d && typeof d === 'object' && 'type' in (d as Json)) as [string, Json][];
  return (
    <section>
      <h1>Overview</h1>
      <div class="cards">
        <Card title="Seal" value={seal ? (seal.sealed ? 'sealed' : 'unsealed') : '—'} warn={seal?.sealed === true} hint={seal ? `${seal.t} of ${seal.n} shares` : value.seal.error} />
        <Card title="HA" value={leader ? (leader.ha_enabled ? (leader.is_self ? 'active' : 'standby') : 'single node') : '—'} hint={leader?.leader_address || value.leader.error} />
        <Card title="Live leases" value={summary.live_leases ?? '—'} hint={value.summary.error} />
        <Card title="Live tokens" value={summary.live_tokens ?? '—'} />
        <Card title="Expiring within the hour" value={summary.leases_expiring_within_hour ?? '—'} />
        <Card title="Revocations pending" value={summary.revocations_pending ?? '—'} warn={(summary.revocations_pending ?? 0) > 0} />
        <Card title="Irrevocable" value={summary.revocations_irrevocable ?? '—'} warn={(summary.revocations_irrevocable ?? 0) > 0} hint="revocation gave up for now; see Leases" />
        <Card title="Pending approvals" value={value.approvals.error ? '—' : pending.length} hint={value.approvals.error ? 'not available to this token' : undefined} />
      </div>
      <h2>Audit devices</h2>
      <ErrorBox error={value.audit.error} />
      {!value.audit.error && devices.length === 0 && <p class="empty">No audit device is enabled: requests are not being recorded. Enable one with <code>leasehold audit enable file file_path=…</code>.</p>}
      {devices.length > 0 && (
        <table>
          <thead><tr><th>Path</th><th>Type</th><th>Health</th><th>Failures</th><th>Last error</th></tr></thead>
          <tbody>
            {devices.map(([path, d]) => {
              const health = (d.health ?? {}) as Json;
              const failures = Number(health.failures ?? health.failures_since_enable ?? 0);
              return (
                <tr key={path}>
                  <td>{path}</td>
                  <td>{String(d.type)}</td>
                  <td class={failures > 0 ? 'bad' : 'good'}>{failures > 0 ? 'failing' : 'ok'}</td>
                  <td>{failures}</td>
                  <td>{String(health.last_error ?? '') || <span class="muted">none</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
