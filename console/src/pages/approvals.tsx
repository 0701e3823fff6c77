import { useState } from 'preact/hooks';
import { list, post, type Json } from '../api';
import { Action, Empty, ErrorBox, Loading, Time, useLoad } from '../ui';

/** Control-group requests this user may approve (LIST sys/control-group/pending), with approve and deny. */
export function Approvals({ self }: { self: Json }) {
  const pending = useLoad(() => list('sys/control-group/pending'), []);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const keys = (pending.value?.data?.keys ?? []) as string[];
  const info = (pending.value?.data?.key_info ?? {}) as Record<string, Json>;
  const done = (what: string) => (error?: string) => {
    setMessage(error ? `${what} failed: ${error}` : `${what}: done`);
    pending.reload();
  };
  return (
    <section>
      <h1>Approvals</h1>
      <p class="muted">Requests waiting for your approval, signed in as {String(self.display_name ?? '')}. Your own requests are not listed: nobody approves their own.</p>
      {message && <p class="notice" role="status">{message}</p>}
      <ErrorBox error={pending.error} />
      {pending.loading && !pending.value && <Loading what="pending requests" />}
      {pending.value && keys.length === 0 && <Empty>Nothing waits for your approval.</Empty>}
      {keys.length > 0 && (
        <table class="approvals">
          <thead><tr><th>Path</th><th>Requester</th><th>Justification</th><th>Approvals</th><th>Expires</th><th>Decide</th></tr></thead>
          <tbody>
            {keys.map((accessor) => {
              const r = info[accessor] ?? {};
              const approvals = (r.approvals ?? r.authorizations ?? []) as Json[];
              const required = ((r.required ?? []) as Json[]).reduce((n, f) => n + Number(f.approvals ?? 0), 0);
              return (
                <tr key={accessor} data-accessor={accessor}>
                  <td><code>{r.request_path}</code></td>
                  <td>{r.request_entity?.name ?? r.request_entity?.id ?? '—'}</td>
                  <td>{r.justification || <span class="muted">none given</span>}</td>
                  <td>{approvals.length}{required ? ` of ${required}` : ''}{approvals.length > 0 && <span class="muted small"> ({approvals.map((a) => a.entity_name || a.entity_id).join(', ')})</span>}</td>
                  <td><Time iso={r.expire_time} /></td>
                  <td class="actions">
                    <Action label="Approve" run={() => post('sys/control-group/authorize', { accessor })} onDone={done('Approve')} />
                    <input aria-label="Reason to deny" placeholder="reason" value={reasons[accessor] ?? ''} onInput={(e) => setReasons({ ...reasons, [accessor]: (e.currentTarget as HTMLInputElement).value })} maxLength={512} />
                    <Action label="Deny" danger run={async () => {
                      const reason = (reasons[accessor] ?? '').trim();
                      if (!reason) throw new Error('give a reason to deny');
                      await post('sys/control-group/deny', { accessor, reason });
                    }} onDone={done('Deny')} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
