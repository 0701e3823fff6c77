// Shared set-up of the release-control tests: AppRole logins that give entity-bound tokens, and
// identity groups built from those entities through the identity API.
import request from 'supertest';
import type { Express } from 'express';

/** The policy approvers need, as Vault documents it for control groups. */
export const APPROVER_POLICY = `
path "sys/control-group/authorize" { capabilities = ["update"] }
path "sys/control-group/request" { capabilities = ["update"] }
path "sys/control-group/deny" { capabilities = ["update"] }
path "sys/control-group/pending*" { capabilities = ["list"] }
`;

/** Helpers over a vault's app with AppRole mounted at approle/ (mounted here on first use). */
export function releaseHelpers(app: Express, root: Record<string, string>, options: { approleMounted?: boolean } = {}) {
  let mounted = options.approleMounted ?? false;
  const ok = (status: number, what: string, body: unknown) => {
    if (status >= 300) throw new Error(`${what} failed: ${status} ${JSON.stringify(body)}`);
  };
  return {
    async policy(name: string, text: string) {
      const res = await request(app).put(`/v1/sys/policies/acl/${name}`).set(root).send({ policy: text });
      ok(res.status, `policy ${name}`, res.body);
    },
    /** Logs in through an AppRole role of its own: a token bound to that role's entity. */
    async login(role: string, policies: string[], body: Record<string, unknown> = {}) {
      if (!mounted) {
        const res = await request(app).post('/v1/sys/auth/approle').set(root).send({ type: 'approle' });
        ok(res.status, 'mount approle', res.body);
        mounted = true;
      }
      ok((await request(app).post(`/v1/auth/approle/role/${role}`).set(root).send({ token_policies: policies })).status, `role ${role}`, {});
      const roleId = (await request(app).get(`/v1/auth/approle/role/${role}/role-id`).set(root)).body.data.role_id as string;
      const secretId = (await request(app).post(`/v1/auth/approle/role/${role}/secret-id`).set(root)).body.data.secret_id as string;
      const res = await request(app).post('/v1/auth/approle/login').send({ role_id: roleId, secret_id: secretId, ...body });
      ok(res.status, `login ${role}`, res.body);
      const auth = res.body.auth as { client_token: string; accessor: string; entity_id: string };
      return { token: auth.client_token, accessor: auth.accessor, entityId: auth.entity_id, headers: { 'X-Vault-Token': auth.client_token } };
    },
    async group(name: string, memberEntityIds: string[]) {
      const res = await request(app).post('/v1/identity/group').set(root).send({ name, member_entity_ids: memberEntityIds });
      ok(res.status, `group ${name}`, res.body);
    },
  };
}
