// The GitHub Actions OIDC token shape the JWT tests log in with, and the identity metadata it must yield.
import type { JWTPayload } from 'jose';

/** GitHub Actions' OIDC issuer. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** The claims GitHub Actions puts in an OIDC token for a push to main of acme/app. */
export function githubClaims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: GITHUB_ISSUER,
    aud: 'https://github.com/acme',
    sub: 'repo:acme/app:ref:refs/heads/main',
    repository: 'acme/app',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    sha: '2f1c0b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
    workflow: 'deploy',
    run_id: '9876543210',
    run_attempt: '1',
    actor: 'octocat',
    event_name: 'push',
    ...overrides,
  };
}

/** The identifying claims of `githubClaims()` a login must record as token metadata (beside `role`). */
export const GITHUB_CI_METADATA = {
  iss: GITHUB_ISSUER,
  sub: 'repo:acme/app:ref:refs/heads/main',
  repository: 'acme/app',
  ref: 'refs/heads/main',
  sha: '2f1c0b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b',
  workflow: 'deploy',
  run_id: '9876543210',
  run_attempt: '1',
  actor: 'octocat',
};
