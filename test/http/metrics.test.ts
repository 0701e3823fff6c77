// sys/metrics over real HTTP: Vault's metric names with the values known actions must produce
// (three credentials -> vault_expire_num_leases 3), Leasehold's leasehold_* gauges, the JSON shape,
// the token rule (403 without one unless the config allows unauthenticated access), audit device
// health, and the config file's telemetry settings on a real server process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LEASE_GAUGE_SQL } from '../../src/core/metrics/lease-gauges';
import { prometheusName, ttlBucket } from '../../src/core/metrics/vault-metrics';
import { WindowedSummary } from '../../src/core/metrics/windowed-summary';
import { openDatabase } from '../../src/storage/database';
import { ManualClock } from '../../src/util/clock';
import { breakAuditFile } from '../helpers/audit';
import { leaseEngine } from '../helpers/lease-engine';
import { freePort, startServerProcess } from '../helpers/process';
import { listen, unsealedVault, type VaultOptions } from '../helpers/vault';

jest.setTimeout(60_000);

/** One sample line of the Prometheus text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the text exposition format: `# TYPE` lines and `name{a="b",...} value` samples. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** The value of the one sample with this name whose labels include `labels`; undefined if none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function setup(options: VaultOptions = {}) {
  const engine = leaseEngine();
  const v = await unsealedVault({ ...options, registry: { leases: engine.factory } });
  const http = await listen(v.app);
  const api = async (method: string, apiPath: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(`${http.url}/v1/${apiPath}`, {
      method,
      headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text, json: () => JSON.parse(text) as Record<string, any> };
  };
  const scrape = async (token: string | undefined = v.rootToken) => {
    const res = await api('GET', 'sys/metrics?format=prometheus', token);
    if (res.status !== 200) throw new Error(`sys/metrics answered ${res.status}: ${res.text}`);
    return parsePrometheus(res.text).samples;
  };
  expect((await api('POST', 'sys/mounts/test', v.rootToken, { type: 'leases' })).status).toBe(204);
  return { ...v, ...http, api, scrape, log: engine.log };
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});
async function started(options: VaultOptions = {}) {
  const s = await setup(options);
  closers.push(s.close);
  return s;
}

describe('sys/metrics in the Prometheus text format', () => {
  it('counts three credentials as three leases, and a token create as one token creation', async () => {
    const { api, scrape, rootToken } = await started();
    const before = await scrape();
    expect(valueOf(before, 'vault_expire_num_leases')).toBe(0);
    const tokensBefore = valueOf(before, 'vault_token_creation', { auth_method: 'token', mount_point: 'auth/token/', creation_ttl: '1h' }) ?? 0;

    for (let i = 0; i < 3; i++) expect((await api('GET', 'test/creds/app?ttl=300', rootToken)).status).toBe(200);
    expect((await api('POST', 'auth/token/create', rootToken, { ttl: '1h', policies: ['default'] })).status).toBe(200);

    const samples = await scrape();
    expect(valueOf(samples, 'vault_expire_num_leases')).toBe(3);
    expect(valueOf(samples, 'vault_expire_num_irrevocable_leases')).toBe(0);
    expect(valueOf(samples, 'leasehold_leases_live', { mount: 'test/' })).toBe(3);
    expect(valueOf(samples, 'vault_secret_lease_creation', { namespace: 'root', secret_engine: 'leases', mount_point: 'test/', creation_ttl: '10m' })).toBe(3);
    expect(valueOf(samples, 'vault_token_creation', { namespace: 'root', auth_method: 'token', mount_point: 'auth/token/', creation_ttl: '1h', token_type: 'service' })).toBe(tokensBefore + 1);
    expect(valueOf(samples, 'vault_core_unsealed')).toBe(1);
    expect(valueOf(samples, 'vault_core_active')).toBe(1);
    // The scrape itself is the one request in flight.
    expect(valueOf(samples, 'vault_core_in_flight_requests')).toBe(1);
    // The mount is in the name as Vault puts it: `test/` -> `test-` -> `test_`.
    expect(valueOf(samples, 'vault_route_read_test__count')).toBe(3);
    expect(valueOf(samples, 'vault_route_create_auth_token__count') ?? valueOf(samples, 'vault_route_update_auth_token__count')).toBe(1);
    expect(valueOf(samples, 'vault_core_handle_request_count')).toBeGreaterThanOrEqual(6);
    expect(valueOf(samples, 'vault_core_handle_request', { quantile: '0.5' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'vault_audit_log_request_failure')).toBe(0);
    for (const outcome of ['accepted', 'ignored', 'rejected', 'error']) expect(valueOf(samples, 'leasehold_webhook_deliveries_total', { outcome })).toBe(0);
    expect(valueOf(samples, 'leasehold_approvals_pending')).toBe(0);
    expect(valueOf(samples, 'leasehold_ledger_events_total', { kind: 'lease.issued' })).toBe(3);
    // No label carries a lease id, an accessor or a request path.
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.filter((v) => v.includes('creds'))).toEqual([]);
  });

  it('answers with the Prometheus content type and declares the types Vault uses', async () => {
    const { api, rootToken } = await started();
    const res = await api('GET', 'sys/metrics?format=prometheus', rootToken);
    expect(res.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { types } = parsePrometheus(res.text);
    expect(Object.fromEntries(['vault_core_unsealed', 'vault_core_handle_request', 'vault_core_handle_login_request', 'vault_expire_num_leases', 'vault_expire_revoke', 'vault_expire_lease_expiration', 'vault_expire_lease_expiration_error', 'vault_token_creation', 'vault_secret_lease_creation', 'vault_audit_log_request_failure', 'leasehold_sweep_duration_seconds'].map((n) => [n, types.get(n)]))).toEqual({
      vault_core_unsealed: 'gauge',
      vault_core_handle_request: 'summary',
      vault_core_handle_login_request: 'summary',
      vault_expire_num_leases: 'gauge',
      vault_expire_revoke: 'summary',
      vault_expire_lease_expiration: 'counter',
      vault_expire_lease_expiration_error: 'counter',
      vault_token_creation: 'counter',
      vault_secret_lease_creation: 'counter',
      vault_audit_log_request_failure: 'counter',
      leasehold_sweep_duration_seconds: 'summary',
    });
  });

  it('times logins apart from other requests and labels their tokens with the auth method', async () => {
    const { api, scrape, rootToken } = await started();
    expect((await api('POST', 'sys/auth/approle', rootToken, { type: 'approle' })).status).toBe(204);
    expect((await api('POST', 'auth/approle/role/ci', rootToken, { token_ttl: '20m' })).status).toBe(204);
    const roleId = (await api('GET', 'auth/approle/role/ci/role-id', rootToken)).json().data.role_id;
    const secretId = (await api('POST', 'auth/approle/role/ci/secret-id', rootToken)).json().data.secret_id;
    const loginsBefore = valueOf(await scrape(), 'vault_core_handle_login_request_count');
    expect(loginsBefore).toBe(0);
    expect((await api('POST', 'auth/approle/login', undefined, { role_id: roleId, secret_id: secretId })).status).toBe(200);
    const samples = await scrape();
    expect(valueOf(samples, 'vault_core_handle_login_request_count')).toBe(1);
    expect(valueOf(samples, 'vault_token_creation', { auth_method: 'approle', mount_point: 'auth/approle/', creation_ttl: '20m' })).toBe(1);
  });

  it('counts expirations, failed revocations, irrevocable leases and the age of the oldest pending revocation', async () => {
    const clock = new ManualClock();
    const { api, scrape, rootToken, vault, log } = await started({ clock, expiration: { maxRevokeAttempts: 2, baseBackoffMs: 1000, maxBackoffMs: 1000 } });
    for (let i = 0; i < 2; i++) await api('GET', 'test/creds/app?ttl=10', rootToken);
    clock.advanceSeconds(11);
    // Past expiry, before any sweep: due, not yet revoked.
    expect(valueOf(await scrape(), 'leasehold_revocation_oldest_pending_age_seconds')).toBeCloseTo(1, 0);
    expect(valueOf(await scrape(), 'leasehold_leases_live', { mount: 'test/' })).toBeUndefined();
    await vault.expiration.sweep();
    let samples = await scrape();
    expect(valueOf(samples, 'vault_expire_lease_expiration')).toBe(2);
    expect(valueOf(samples, 'vault_expire_revoke_count')).toBe(2);
    expect(valueOf(samples, 'vault_expire_num_leases')).toBe(0);
    expect(valueOf(samples, 'leasehold_revocation_oldest_pending_age_seconds')).toBe(0);

    log.failRevocations = true;
    await api('GET', 'test/creds/app?ttl=10', rootToken);
    clock.advanceSeconds(11);
    await vault.expiration.sweep();
    clock.advanceSeconds(5);
    await vault.expiration.sweep();
    samples = await scrape();
    expect(valueOf(samples, 'vault_expire_lease_expiration_error')).toBe(2);
    expect(valueOf(samples, 'vault_expire_num_irrevocable_leases')).toBe(1);
    expect(valueOf(samples, 'vault_expire_num_leases')).toBe(1);
    // Due since its expiry, 6 seconds ago.
    expect(valueOf(samples, 'leasehold_revocation_oldest_pending_age_seconds')).toBeCloseTo(6, 0);
    expect(valueOf(samples, 'leasehold_ledger_events_total', { kind: 'lease.irrevocable' })).toBe(1);
  });

  it("shows each audit device's health, and counts request entries no device recorded", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-metrics-audit-'));
    try {
      const { api, scrape, rootToken, vault } = await started();
      const good = path.join(dir, 'good.log');
      const bad = path.join(dir, 'bad.log');
      expect((await api('PUT', 'sys/audit/good', rootToken, { type: 'file', options: { file_path: good } })).status).toBe(204);
      expect((await api('PUT', 'sys/audit/bad', rootToken, { type: 'file', options: { file_path: bad } })).status).toBe(204);
      breakAuditFile(vault.audit, bad);
      // One device suffices: requests are served, and the failing device shows.
      let samples = await scrape();
      samples = await scrape();
      expect(valueOf(samples, 'leasehold_audit_device_failures', { path: 'bad/' })).toBeGreaterThanOrEqual(2);
      expect(valueOf(samples, 'leasehold_audit_device_failing', { path: 'bad/' })).toBe(1);
      expect(valueOf(samples, 'leasehold_audit_device_failures', { path: 'good/' })).toBe(0);
      expect(valueOf(samples, 'leasehold_audit_device_failing', { path: 'good/' })).toBe(0);
      expect(valueOf(samples, 'leasehold_audit_device_last_success_timestamp_seconds', { path: 'good/' })).toBeGreaterThan(0);
      expect(valueOf(samples, 'vault_audit_log_request_failure')).toBe(0);

      // With no device able to write, requests are refused and each one counts.
      breakAuditFile(vault.audit, good);
      expect((await api('GET', 'sys/mounts', rootToken)).status).toBe(500);
      expect((await api('GET', 'sys/mounts', rootToken)).status).toBe(500);
      // The sudo disables of the failing devices go through; the count stays.
      expect((await api('DELETE', 'sys/audit/bad', rootToken)).status).toBe(204);
      expect((await api('DELETE', 'sys/audit/good', rootToken)).status).toBe(204);
      samples = await scrape();
      expect(valueOf(samples, 'vault_audit_log_request_failure')).toBeGreaterThanOrEqual(3);
      expect(valueOf(samples, 'leasehold_audit_device_failures', { path: 'bad/' })).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('who may read sys/metrics', () => {
  it('is 403 without a token or without read on sys/metrics, 200 with it', async () => {
    const { api, rootToken } = await started();
    expect((await api('GET', 'sys/metrics?format=prometheus', undefined)).status).toBe(403);
    expect((await api('GET', 'sys/metrics', undefined)).status).toBe(403);
    const plain = (await api('POST', 'auth/token/create', rootToken, { policies: ['default'] })).json().auth.client_token;
    expect((await api('GET', 'sys/metrics?format=prometheus', plain)).status).toBe(403);
    expect((await api('PUT', 'sys/policies/acl/metrics', rootToken, { policy: 'path "sys/metrics" { capabilities = ["read"] }' })).status).toBe(204);
    const reader = (await api('POST', 'auth/token/create', rootToken, { policies: ['metrics'] })).json().auth.client_token;
    const res = await api('GET', 'sys/metrics?format=prometheus', reader);
    expect(res.status).toBe(200);
    expect(res.text).toContain('vault_core_unsealed 1');
  });

  it('is 200 without a token when unauthenticated metrics access is configured, sealed too (as Vault)', async () => {
    const { api, rootToken } = await started({ telemetry: { unauthenticatedMetricsAccess: true } });
    expect((await api('GET', 'test/creds/app', rootToken)).status).toBe(200);
    const res = await api('GET', 'sys/metrics?format=prometheus', undefined);
    expect(res.status).toBe(200);
    expect(valueOf(parsePrometheus(res.text).samples, 'vault_core_unsealed')).toBe(1);
    expect((await api('PUT', 'sys/seal', rootToken)).status).toBe(204);
    const sealed = await api('GET', 'sys/metrics?format=prometheus', undefined);
    expect(sealed.status).toBe(200);
    const samples = parsePrometheus(sealed.text).samples;
    expect(valueOf(samples, 'vault_core_unsealed')).toBe(0);
    expect(valueOf(samples, 'vault_core_active')).toBe(0);
    // The lease table is readable without the keys: the count stays true while sealed.
    expect(valueOf(samples, 'vault_expire_num_leases')).toBe(1);
  });

  it('is 503 while sealed when metrics need a token', async () => {
    const { api, rootToken } = await started();
    expect((await api('PUT', 'sys/seal', rootToken)).status).toBe(204);
    expect((await api('GET', 'sys/metrics?format=prometheus', rootToken)).status).toBe(503);
  });

  it('refuses an unknown format with a 400 naming the field, and answers 400 when metrics are off', async () => {
    const { api, rootToken } = await started();
    const bad = await api('GET', 'sys/metrics?format=statsd', rootToken);
    expect(bad.status).toBe(400);
    expect(bad.json().errors[0]).toMatch(/format/);
    const off = await started({ telemetry: { disabled: true } });
    const res = await off.api('GET', 'sys/metrics?format=prometheus', off.rootToken);
    expect(res.status).toBe(400);
    expect(res.json().errors[0]).toMatch(/metrics are turned off/);
  });
});

describe("Vault's JSON form", () => {
  it('has Gauges, Counters and Samples with dotted names, values and labels', async () => {
    const { api, rootToken } = await started();
    for (let i = 0; i < 3; i++) await api('GET', 'test/creds/app', rootToken);
    const res = await api('GET', 'sys/metrics', rootToken);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/json');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['Counters', 'Gauges', 'Points', 'Samples', 'Timestamp']);
    expect(body.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0000 UTC$/);
    expect(body.Gauges).toContainEqual({ Name: 'vault.expire.num_leases', Value: 3, Labels: {} });
    expect(body.Gauges).toContainEqual({ Name: 'vault.core.unsealed', Value: 1, Labels: {} });
    expect(body.Gauges).toContainEqual({ Name: 'leasehold.leases.live', Value: 3, Labels: { mount: 'test/' } });
    const leases = body.Counters.find((c: { Name: string }) => c.Name === 'vault.secret.lease.creation');
    expect(leases).toMatchObject({ Count: 3, Sum: 3, Labels: { mount_point: 'test/', secret_engine: 'leases', creation_ttl: '1m' } });
    expect(Object.keys(leases).sort()).toEqual(['Count', 'Labels', 'Max', 'Mean', 'Min', 'Name', 'Rate', 'Stddev', 'Sum']);
    const route = body.Samples.find((s: { Name: string }) => s.Name === 'vault.route.read.test-');
    expect(route).toMatchObject({ Count: 3, Labels: {} });
    expect(route.Min).toBeGreaterThan(0);
    expect(route.Max).toBeGreaterThanOrEqual(route.Min);
    expect(route.Mean).toBeCloseTo(route.Sum / 3, 6);
  });
});

describe('the config file', () => {
  it("wires listener telemetry unauthenticated_metrics_access and telemetry prometheus_retention_time into a real server", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leasehold-metrics-config-'));
    try {
      const open = path.join(dir, 'open.hcl');
      fs.writeFileSync(open, 'listener "tcp" {\n  address = "127.0.0.1:1"\n  tls_disable = true\n  telemetry { unauthenticated_metrics_access = true }\n}\ntelemetry { disable_hostname = true }\n');
      const server = await startServerProcess(['--dev', `-config=${open}`], await freePort());
      try {
        const res = await fetch(`${server.url}/v1/sys/metrics?format=prometheus`);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('vault_core_unsealed 1');
      } finally {
        await server.kill();
      }
      const off = path.join(dir, 'off.hcl');
      fs.writeFileSync(off, 'telemetry { prometheus_retention_time = "0s" }\n');
      const root = 'metrics-test-root';
      const quiet = await startServerProcess(['--dev', '--dev-root-token-id', root, `-config=${off}`], await freePort());
      try {
        expect((await fetch(`${quiet.url}/v1/sys/metrics?format=prometheus`)).status).toBe(403);
        expect((await fetch(`${quiet.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': root } })).status).toBe(400);
      } finally {
        await quiet.kill();
      }
      const bad = path.join(dir, 'bad.hcl');
      fs.writeFileSync(bad, 'telemetry {\n  statsd_address = "x"\n}\n');
      await expect(startServerProcess(['--dev', `-config=${bad}`], await freePort())).rejects.toThrow(`${bad}:2: unknown key "statsd_address" in telemetry`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('naming and the scrape queries', () => {
  it("names metrics as Vault's Prometheus sink does, and buckets TTLs as Vault does", () => {
    expect(prometheusName('vault.route.read.secret-')).toBe('vault_route_read_secret_');
    expect(prometheusName('vault.route.list.auth-token-')).toBe('vault_route_list_auth_token_');
    expect(prometheusName('vault.route.read.héllo+x-')).toBe('vault_route_read_h_llo_x_');
    expect([0, 1, 60, 61, 3600, 86400, 30 * 86400, 31 * 86400].map(ttlBucket)).toEqual(['+Inf', '1m', '1m', '10m', '1h', '1d', '30d', '+Inf']);
  });

  it('a summary keeps exact totals and takes its quantiles from the recent window', async () => {
    const summary = new WindowedSummary('t', 't');
    expect(summary.quantiles().every(Number.isNaN)).toBe(true);
    for (let i = 1; i <= 1000; i++) summary.observe(i);
    expect(summary.quantiles()).toEqual([501, 901, 991]);
    // Past the window, old observations leave the quantiles but stay in the totals.
    for (let i = 0; i < 5000; i++) summary.observe(7);
    expect(summary.quantiles()).toEqual([7, 7, 7]);
    expect(summary.aggregate()).toMatchObject({ count: 6000, sum: 500500 + 35000, min: 1, max: 1000 });
    const lines = (await summary.get()).values.map((v) => `${v.metricName ?? 't'}${v.labels.quantile === undefined ? '' : `{quantile="${v.labels.quantile}"}`} ${v.value}`);
    expect(lines).toEqual(['t{quantile="0.5"} 7', 't{quantile="0.9"} 7', 't{quantile="0.99"} 7', 't_sum 535500', 't_count 6000']);
  });

  it('the scrape-time lease and ledger queries read by index, never by walking the tables', () => {
    const db = openDatabase(':memory:');
    try {
      for (const sql of Object.values(LEASE_GAUGE_SQL)) {
        const args = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
        for (const line of plan) expect(line).not.toMatch(/^SCAN (leases|l|ledger_events|lease_events|e)$/);
      }
    } finally {
      db.close();
    }
  });
});
