// The ledger's chain in a real data-dir database: tampering with a row in the SQLite file (through a
// second connection, as an attacker with the file would) makes verify fail at that row's seq.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../src/util/clock';
import { unsealedVault } from '../helpers/vault';

describe('governance ledger chain', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-ledger-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function withEvents(count: number, clock = new ManualClock(Date.UTC(2026, 0, 1))) {
    const file = path.join(dir, 'leasehold.db');
    const built = await unsealedVault({ file, clock });
    const baseline = built.vault.ledger.count();
    for (let i = 0; i < count; i++) {
      built.vault.ledger.record({ event: 'lease.issued', leaseId: `kv/creds/role/${i}`, mount: 'database/', owner: 'team-a', actor: 'accessor-x', detail: `n${i}` });
      clock.advanceSeconds(1);
    }
    const raw = new Database(file);
    return { ...built, file, raw, clock, baseline };
  }

  it('verifies an untouched chain', async () => {
    const { vault, raw, baseline } = await withEvents(5);
    expect((await vault.ledger.verify())).toEqual({ verified: true, events: baseline + 5 });
    raw.close();
  });

  it('fails at the edited row', async () => {
    const { vault, raw, baseline } = await withEvents(6);
    const seq = baseline + 3;
    raw.prepare("UPDATE ledger_events SET owner = 'team-b' WHERE seq = ?").run(seq);
    expect((await vault.ledger.verify())).toEqual({ verified: false, events: seq - 1, first_bad_seq: seq });
    raw.close();
  });

  it('fails at the edited row even when the attacker recomputes a plain hash', async () => {
    const { vault, raw, baseline } = await withEvents(4);
    const seq = baseline + 2;
    raw.prepare("UPDATE ledger_events SET hash = lower(hex(randomblob(32))) WHERE seq = ?").run(seq);
    expect((await vault.ledger.verify()).first_bad_seq).toBe(seq);
    raw.close();
  });

  it('fails at a deleted row', async () => {
    const { vault, raw, baseline } = await withEvents(6);
    const seq = baseline + 4;
    raw.prepare('DELETE FROM ledger_events WHERE seq = ?').run(seq);
    expect((await vault.ledger.verify())).toEqual({ verified: false, events: seq - 1, first_bad_seq: seq });
    raw.close();
  });

  it('fails at reordered rows', async () => {
    const { vault, raw, baseline } = await withEvents(6);
    const a = baseline + 2;
    const b = baseline + 5;
    // Swap the two rows' contents (each keeps its seq), as a reordering in the file would.
    raw.transaction(() => {
      raw.prepare('UPDATE ledger_events SET seq = -1 WHERE seq = ?').run(a);
      raw.prepare('UPDATE ledger_events SET seq = ? WHERE seq = ?').run(a, b);
      raw.prepare('UPDATE ledger_events SET seq = ? WHERE seq = -1').run(b);
    })();
    expect((await vault.ledger.verify())).toEqual({ verified: false, events: a - 1, first_bad_seq: a });
    raw.close();
  });

  it('still verifies after tidy, from the recorded anchor, and keeps extending the chain', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { vault, raw } = await withEvents(5, clock);
    clock.advanceSeconds(3600);
    vault.ledger.record({ event: 'token.created', accessor: 'acc-new' });
    const total = vault.ledger.count();
    // Keep the last 30 minutes: only the final event stays.
    expect(vault.ledger.tidy(1800)).toBe(total - 1);
    const anchor = raw.prepare('SELECT seq FROM ledger_anchor').get() as { seq: number };
    expect(anchor.seq).toBe(total - 1);
    expect((await vault.ledger.verify())).toEqual({ verified: true, events: 1 });
    vault.ledger.record({ event: 'token.revoked', accessor: 'acc-new' });
    expect((await vault.ledger.verify())).toEqual({ verified: true, events: 2 });
    // Tampering with the anchor itself is detected.
    raw.prepare("UPDATE ledger_anchor SET hash = 'x'").run();
    expect((await vault.ledger.verify()).verified).toBe(false);
    raw.close();
  });

  it('an empty ledger after tidying everything verifies', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { vault, raw } = await withEvents(3, clock);
    clock.advanceSeconds(100 * 24 * 3600);
    vault.ledger.tidy();
    expect((await vault.ledger.verify())).toEqual({ verified: true, events: 0 });
    vault.ledger.record({ event: 'token.created', accessor: 'a' });
    expect((await vault.ledger.verify())).toEqual({ verified: true, events: 1 });
    raw.close();
  });

  it('folds repeated releases inside one flush window into one event with a count', async () => {
    const { vault, raw, baseline } = await withEvents(0);
    const release = { event: 'secret.released' as const, mount: 'secret/', path: 'secret/data/app', accessor: 'acc', detail: 'version=1' };
    vault.ledger.buffer(release);
    vault.ledger.buffer({ ...release, detail: 'version=2' });
    vault.ledger.buffer(release);
    vault.ledger.buffer({ ...release, accessor: 'other' });
    vault.ledger.buffer(release);
    vault.ledger.flush();
    const rows = raw.prepare('SELECT accessor, detail FROM ledger_events WHERE seq > ? ORDER BY seq').all(baseline);
    expect(rows).toEqual([
      { accessor: 'acc', detail: 'version=1 count=3' },
      { accessor: 'acc', detail: 'version=2' },
      { accessor: 'other', detail: 'version=1' },
    ]);
    expect((await vault.ledger.verify()).verified).toBe(true);
    raw.close();
  });

  it('flushes buffered releases in order before a synchronous event, and on seal', async () => {
    const { vault, raw, baseline } = await withEvents(0);
    vault.ledger.buffer({ event: 'secret.released', mount: 'secret/', path: 'data/app', accessor: 'acc' });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM ledger_events').get()).toEqual({ n: baseline });
    vault.ledger.record({ event: 'token.revoked', accessor: 'acc' });
    const events = (raw.prepare('SELECT event FROM ledger_events WHERE seq > ? ORDER BY seq').all(baseline) as { event: string }[]).map((r) => r.event);
    expect(events).toEqual(['secret.released', 'token.revoked']);
    vault.ledger.buffer({ event: 'secret.released', mount: 'secret/', path: 'data/app', accessor: 'acc' });
    await vault.seal.seal();
    expect(raw.prepare('SELECT COUNT(*) AS n FROM ledger_events').get()).toEqual({ n: baseline + 3 });
    raw.close();
  });
});
