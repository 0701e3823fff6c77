-- The auth mount that issued each token, indexed: disabling an auth method revokes every token
-- it issued (and so their leases), as Vault does. Tokens from before this migration came from
-- auth/token/ (root and child tokens).
ALTER TABLE tokens ADD COLUMN auth_path TEXT NOT NULL DEFAULT 'auth/token/';
CREATE INDEX tokens_by_auth_path ON tokens (auth_path);
