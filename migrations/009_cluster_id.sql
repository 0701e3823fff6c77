-- Vault keeps a cluster's id for the life of its storage (sys/health, sys/leader); it is set at init.
-- Storage initialised before this migration gets one on first use (see SealManager.clusterId).
ALTER TABLE seal_config ADD COLUMN cluster_id TEXT;
