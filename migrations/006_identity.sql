-- Identity entities, aliases and groups (Vault's identity/ subset), and the holder and owner of
-- every token and lease. Plaintext columns are only what an index or a join needs (ids, names,
-- the owner, the alias's mount accessor); metadata and policies are barrier records in `body`.
CREATE TABLE identity_entities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  owner TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX identity_entities_by_owner ON identity_entities (owner) WHERE owner IS NOT NULL;

-- An alias links a login (mount accessor + name: AppRole role_id, JWT user_claim) to its entity.
CREATE TABLE identity_aliases (
  id TEXT PRIMARY KEY,
  canonical_id TEXT NOT NULL REFERENCES identity_entities (id) ON DELETE CASCADE,
  mount_accessor TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body BLOB NOT NULL,
  UNIQUE (mount_accessor, name)
);
CREATE INDEX identity_aliases_by_entity ON identity_aliases (canonical_id);

CREATE TABLE identity_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body BLOB NOT NULL
);

CREATE TABLE identity_group_members (
  group_id TEXT NOT NULL REFERENCES identity_groups (id) ON DELETE CASCADE,
  entity_id TEXT NOT NULL REFERENCES identity_entities (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, entity_id)
) WITHOUT ROWID;
CREATE INDEX identity_group_members_by_entity ON identity_group_members (entity_id);

-- Holder (entity), owner, issuing auth mount accessor and role on every token and lease. Rows from
-- before this migration have no known holder: NULL.
ALTER TABLE tokens ADD COLUMN entity_id TEXT;
ALTER TABLE tokens ADD COLUMN owner TEXT;
ALTER TABLE tokens ADD COLUMN mount_accessor TEXT;
ALTER TABLE tokens ADD COLUMN role_name TEXT;
CREATE INDEX tokens_by_entity ON tokens (entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX tokens_by_owner ON tokens (owner) WHERE owner IS NOT NULL;
CREATE INDEX tokens_by_role ON tokens (mount_accessor, role_name) WHERE mount_accessor IS NOT NULL;

ALTER TABLE leases ADD COLUMN entity_id TEXT;
ALTER TABLE leases ADD COLUMN mount_accessor TEXT;
ALTER TABLE leases ADD COLUMN role_name TEXT;
CREATE INDEX leases_by_entity ON leases (entity_id) WHERE entity_id IS NOT NULL;
CREATE INDEX leases_by_role ON leases (mount_accessor, role_name) WHERE mount_accessor IS NOT NULL;
