// The console in a real headless Chromium (Debian's, driven by playwright-core) against a real vault
// over real HTTP: sign in, see and renew and revoke a lease a workload holds, look at an entity's
// blast radius and offboard it after its dry run, verify the ledger, browse and write a KV secret.
// Every page must work under the console's CSP: a CSP violation or a page error fails the test.
// Screenshots of each page go to dist/test-artifacts/console/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import request from 'supertest';
import { CONSOLE_DIR } from '../../src/http/console';
import { approleCredsVault } from '../identity/approle-creds-vault';
import { listen } from '../helpers/vault';
import { APPROVER_POLICY, releaseHelpers } from '../governance/release-setup';

jest.setTimeout(120_000);

const ARTIFACTS = join(__dirname, '..', '..', 'dist', 'test-artifacts', 'console');
const CHROMIUM = '/usr/bin/chromium';

type Setup = Awaited<ReturnType<typeof approleCredsVault>> & { url: string; close: () => Promise<void> };

let s: Setup;
let browser: Browser;
let page: Page;
const problems: string[] = [];

async function shot(name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A workload: an AppRole login (owner "team-payments") that mints one leased credential. */
let workloads = 0;
async function workload() {
  const role = `billing-${++workloads}`;
  await request(s.app).post(`/v1/auth/approle/role/${role}`).set(s.root).send({ token_policies: ['creds'], owner: 'team-payments' });
  const roleId = (await request(s.app).get(`/v1/auth/approle/role/${role}/role-id`).set(s.root)).body.data.role_id as string;
  const secretId = (await request(s.app).post(`/v1/auth/approle/role/${role}/secret-id`).set(s.root)).body.data.secret_id as string;
  const login = await request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId });
  expect(login.status).toBe(200);
  const cred = await request(s.app).get('/v1/creds/creds/web').set('X-Vault-Token', login.body.auth.client_token);
  expect(cred.status).toBe(200);
  return { role, entityId: login.body.auth.entity_id as string, leaseId: cred.body.lease_id as string, username: cred.body.data.username as string, roleId };
}

beforeAll(async () => {
  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) execFileSync('npx', ['vite', 'build', '--config', 'console/vite.config.mts'], { cwd: join(__dirname, '..', '..'), stdio: 'ignore' });
  mkdirSync(ARTIFACTS, { recursive: true });
  const v = await approleCredsVault();
  await request(v.app).post('/v1/sys/mounts/secret').set(v.root).send({ type: 'kv', options: { version: '2' } });
  const http = await listen(v.app);
  s = { ...v, url: http.url, close: http.close };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await s?.close();
});

beforeEach(async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // A CSP violation or script error shows as a console error; a server error is listed by URL (4xx answers are the pages' to show).
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  page.on('dialog', (dialog) => void dialog.accept());
  problems.length = 0;
});

afterEach(async () => {
  await page.context().close();
  expect(problems).toEqual([]);
});

async function signIn() {
  await page.goto(`${s.url}/`);
  await page.getByLabel('Token').fill(s.rootToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

describe('the console', () => {
  it('serves /ui/ with strict security headers, redirects / there, and keeps the token out of storage that outlives the tab', async () => {
    const root = await fetch(`${s.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(307);
    expect(root.headers.get('location')).toBe('/ui/');
    const ui = await fetch(`${s.url}/ui/`);
    expect(ui.status).toBe(200);
    const csp = ui.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(ui.headers.get('x-frame-options')).toBe('DENY');
    expect(ui.headers.get('referrer-policy')).toBe('no-referrer');
    expect(ui.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await ui.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const asset = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    expect((await fetch(`${s.url}${asset}`)).headers.get('content-security-policy')).toBe(csp);
    expect((await fetch(`${s.url}/ui/assets/nope.js`)).status).toBe(404);

    await signIn();
    await shot('overview');
    const storage = (await page.evaluate('({ local: Object.keys(localStorage), session: Object.keys(sessionStorage), cookie: document.cookie, html: document.documentElement.outerHTML })')) as {
      local: string[];
      session: string[];
      cookie: string;
      html: string;
    };
    expect(storage.local).toEqual([]);
    expect(storage.cookie).toBe('');
    expect(storage.session).toEqual(['leasehold.token']);
    expect(storage.html).not.toContain(s.rootToken);
    expect(page.url()).not.toContain(s.rootToken);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
  });

  it('rejects a bad token with the API\'s message and signs in with AppRole', async () => {
    await page.goto(`${s.url}/ui/`);
    await page.getByLabel('Token').fill('hvs.not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/permission denied/);
    const w = await workload();
    await page.getByRole('tab', { name: 'AppRole' }).click();
    await page.getByLabel('Role ID').fill(w.roleId);
    const secretId = (await request(s.app).post(`/v1/auth/approle/role/${w.role}/secret-id`).set(s.root)).body.data.secret_id as string;
    await page.getByLabel('Secret ID').fill(secretId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.locator('.who').textContent()).toContain('approle');
  });

  it('shows a workload\'s lease with its holder and owner, renews it and revokes it through the backend', async () => {
    const w = await workload();
    await signIn();
    const summary = (await request(s.app).get('/v1/sys/governance/summary').set(s.root)).body.data;
    expect(summary.live_leases).toBeGreaterThanOrEqual(1);
    const card = page.locator('.card', { hasText: 'Live leases' }).locator('.card-value');
    await page.waitForFunction(`document.querySelector('.card .card-value') && [...document.querySelectorAll('.card')].some((c) => c.textContent.includes('Live leases') && c.querySelector('.card-value').textContent === '${summary.live_leases}')`);
    expect(await card.textContent()).toBe(String(summary.live_leases));
    await page.getByRole('link', { name: 'Leases' }).click();
    const row = page.locator(`tr[data-lease-id="${w.leaseId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('team-payments');
    expect(await row.textContent()).toContain(w.entityId.slice(0, 8));
    await shot('leases');
    const before = s.engine.log.renewed.length;
    await row.getByRole('button', { name: 'Renew' }).click();
    await page.getByText(`Renew ${w.leaseId}: done`).waitFor();
    expect(s.engine.log.renewed.length).toBe(before + 1);
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText(`Revoke ${w.leaseId}: done`).waitFor();
    await row.waitFor({ state: 'detached' });
    expect(s.engine.log.revoked).toContain(w.username);
    const live = await request(s.app).get('/v1/sys/governance/leases').set(s.root);
    expect(live.body.data.leases.map((l: { lease_id: string }) => l.lease_id)).not.toContain(w.leaseId);
  });

  it('draws an entity\'s blast radius and offboards it only after the dry run, with a reason', async () => {
    const w = await workload();
    await signIn();
    await page.goto(`${s.url}/ui/#/identities`);
    await page.locator(`a[href="#/identities/${w.entityId}"]`).first().click();
    await page.getByRole('img', { name: /Blast radius/ }).waitFor();
    expect(await page.locator('.blast .policy text').allTextContents()).toContain('creds');
    expect(await page.locator('.blast .credential').count()).toBeGreaterThanOrEqual(2); // its token and its lease
    await shot('identity');
    await page.getByLabel('Reason').fill('left the payments team');
    await page.getByRole('button', { name: 'Dry run' }).click();
    const dry = page.getByTestId('offboard-dry-run');
    await dry.waitFor();
    expect(await dry.textContent()).toMatch(/Would revoke 1 tokens and 1 leases, and disable 1 entities/);
    expect(s.engine.log.revoked).not.toContain(w.username); // the dry run changed nothing
    await dry.getByRole('button', { name: 'Offboard now' }).click();
    await page.getByText(/Offboarded: everything it held is revoked/).waitFor();
    expect(s.engine.log.revoked).toContain(w.username);
    const entity = await request(s.app).get(`/v1/identity/entity/id/${w.entityId}`).set(s.root);
    expect(entity.body.data.disabled).toBe(true);
    const ledger = await request(s.app).get('/v1/sys/governance/ledger').query({ event: 'offboarded' }).set(s.root);
    expect(JSON.stringify(ledger.body.data.events)).toContain('left the payments team');
  });

  it('lets an approver sign in with AppRole and approve a control-group request, which the requester then unwraps', async () => {
    const h = releaseHelpers(s.app, s.root, { approleMounted: true });
    await h.policy('guarded', 'path "creds/creds/guarded" {\n  capabilities = ["read"]\n  control_group = {\n    ttl = "1h"\n    factor "leads" {\n      identity {\n        group_names = ["leads"]\n        approvals = 1\n      }\n    }\n  }\n}\n');
    await h.policy('approver', APPROVER_POLICY);
    const requester = await h.login('requester', ['guarded']);
    // The approver signs in through the console's AppRole form.
    await request(s.app).post('/v1/auth/approle/role/lead').set(s.root).send({ token_policies: ['approver'] });
    const roleId = (await request(s.app).get('/v1/auth/approle/role/lead/role-id').set(s.root)).body.data.role_id as string;
    const secretId = (await request(s.app).post('/v1/auth/approle/role/lead/secret-id').set(s.root)).body.data.secret_id as string;
    const probe = await request(s.app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: (await request(s.app).post('/v1/auth/approle/role/lead/secret-id').set(s.root)).body.data.secret_id });
    await h.group('leads', [probe.body.auth.entity_id]);
    const asked = await request(s.app).get('/v1/creds/creds/guarded').set(requester.headers).set('X-Leasehold-Justification', 'INC-42 restore the cache');
    expect(asked.status).toBe(200);
    const { token: wrapToken, accessor } = asked.body.wrap_info as { token: string; accessor: string };
    const issuedBefore = s.engine.log.issued.length;

    await page.goto(`${s.url}/ui/`);
    await page.getByRole('tab', { name: 'AppRole' }).click();
    await page.getByLabel('Role ID').fill(roleId);
    await page.getByLabel('Secret ID').fill(secretId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Approvals' }).click();
    const row = page.locator(`tr[data-accessor="${accessor}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('INC-42 restore the cache');
    expect(await row.textContent()).toContain('creds/creds/guarded');
    expect(await row.textContent()).toContain('0 of 1');
    await shot('approvals');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Approve: done').waitFor();
    await row.waitFor({ state: 'detached' }); // nothing left for this approver
    expect(s.engine.log.issued.length).toBe(issuedBefore); // approval alone issues nothing

    const released = await request(s.app).post('/v1/sys/wrapping/unwrap').set('X-Vault-Token', wrapToken).send({});
    expect(released.status).toBe(200);
    expect(released.body.data.username).toMatch(/^u-guarded-/);
    expect(s.engine.log.issued.length).toBe(issuedBefore + 1);
  });

  it('verifies the ledger chain and filters its timeline', async () => {
    await workload();
    await signIn();
    await page.getByRole('link', { name: 'Ledger' }).click();
    await page.locator('.timeline li').first().waitFor();
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await page.getByTestId('verify-result').waitFor();
    expect(await page.getByTestId('verify-result').textContent()).toMatch(/^Chain verified: \d+ events/);
    await page.getByLabel('Event').fill('lease.issued');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(`[...document.querySelectorAll('.timeline li')].every((li) => li.getAttribute('data-event') === 'lease.issued')`);
    expect(await page.locator('.timeline li[data-event="lease.issued"]').count()).toBeGreaterThan(0);
    await shot('ledger');
  });

  it('browses a KV v2 mount, hides values until asked, and writes a new version', async () => {
    await request(s.app).post('/v1/secret/data/team/app').set(s.root).send({ data: { password: 'correct-horse' } });
    await signIn();
    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.getByRole('link', { name: 'secret/' }).click();
    await page.getByRole('link', { name: 'team/' }).click();
    await page.getByRole('link', { name: 'app', exact: true }).click();
    await page.getByRole('heading', { name: 'team/app' }).waitFor();
    expect(await page.content()).not.toContain('correct-horse');
    await page.getByRole('button', { name: 'Show password' }).click();
    await page.getByText('correct-horse').waitFor();
    await page.getByRole('button', { name: 'Write a new version' }).click();
    await page.getByLabel('New version (JSON)').fill('{"password": "battery-staple"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved version 2.').waitFor();
    await shot('secrets');
    const read = await request(s.app).get('/v1/secret/data/team/app').set(s.root);
    expect(read.body.data.data).toEqual({ password: 'battery-staple' });
    expect(read.body.data.metadata.version).toBe(2);
  });
});
