import { useState } from 'preact/hooks';
import { get, type Json } from '../api';
import { Action, Empty, ErrorBox, Loading, Time, useLoad } from '../ui';

type Filters = Record<string, string>;

/** A page of ledger events with the filters of sys/governance/ledger, paged by its cursor. */
export function LedgerTable({ filters }: { filters: Filters }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const key = JSON.stringify(filters);
  const page = useLoad(() => get('sys/governance/ledger', { ...filters, after: cursor, limit: 50 }), [key, cursor]);
  const events = (page.value?.data?.events ?? []) as Json[];
  const next = page.value?.data?.next as string | null | undefined;
  return (
    <div>
      <ErrorBox error={page.error} />
      {page.loading && !page.value && <Loading what="the ledger" />}
      {page.value && events.length === 0 && <Empty>No event matches.</Empty>}
      {events.length > 0 && (
        <ol class="timeline">
          {events.map((e) => (
            <li key={e.seq} data-event={e.event}>
              <span class="seq mono">#{e.seq}</span> <Time iso={e.at} /> <strong>{e.event}</strong>
              {e.mount && <> on <code>{e.mount}</code></>}
              {e.path && <> <code>{e.path}</code></>}
              <div class="muted small">
                {e.entity_id && <>holder <a href={`#/identities/${encodeURIComponent(e.entity_id)}`}>{String(e.entity_id).slice(0, 8)}</a> · </>}
                {e.owner && <>owner {e.owner} · </>}
                {e.actor && <>by {e.actor} · </>}
                {e.lease_id && <>lease <span class="mono">{e.lease_id}</span> · </>}
                {e.reason && <>reason “{e.reason}”</>}
              </div>
            </li>
          ))}
        </ol>
      )}
      <div class="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>Next</button>
      </div>
    </div>
  );
}

export function Ledger() {
  const [filters, setFilters] = useState<Filters>({});
  const [verify, setVerify] = useState<Json | string>();
  return (
    <section>
      <h1>Ledger</h1>
      <p class="muted">Every credential's life, chained with an HMAC so an edited row is found.</p>
      <div class="toolbar">
        <Action
          label="Verify chain"
          run={async () => setVerify((await get('sys/governance/ledger/verify')).data as Json)}
          onDone={(error) => error && setVerify(error)}
        />
        {verify !== undefined && (
          <span role="status" data-testid="verify-result" class={typeof verify === 'object' && verify.verified ? 'good' : 'bad'}>
            {typeof verify === 'string' ? verify : verify.verified ? `Chain verified: ${verify.events} events, no edit found.` : `Chain broken at event #${verify.first_bad_seq}.`}
          </span>
        )}
      </div>
      <form
        class="filters"
        aria-label="Filter the ledger"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget as HTMLFormElement);
          const next: Filters = {};
          for (const k of ['event', 'entity_id', 'owner', 'mount', 'lease_id', 'since', 'until']) {
            const v = String(form.get(k) ?? '').trim();
            if (v) next[k] = v;
          }
          setFilters(next);
        }}
      >
        <label>Event<input name="event" placeholder="lease.issued" /></label>
        <label>Holder<input name="entity_id" /></label>
        <label>Owner<input name="owner" /></label>
        <label>Mount<input name="mount" placeholder="database/" /></label>
        <label>Lease<input name="lease_id" /></label>
        <label>Since<input name="since" placeholder="2026-01-02T00:00:00Z" /></label>
        <label>Until<input name="until" /></label>
        <button type="submit">Filter</button>
      </form>
      <LedgerTable key={JSON.stringify(filters)} filters={filters} />
    </section>
  );
}
