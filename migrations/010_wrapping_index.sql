-- Response wrapping, indexed (issue 15 item 3): the tidy finds expired wraps by expiry instead of
-- listing and decrypting every stored response, and a token's pending wraps are counted by index.
-- `accessor` is the wrapping token's accessor (the key of its response under core/wrapping/);
-- `creator` is the accessor of the token that asked for the wrap ('' for an unauthenticated request).
CREATE TABLE wrapping_index (
  accessor TEXT PRIMARY KEY,
  creator TEXT NOT NULL,
  expire_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX wrapping_index_by_expiry ON wrapping_index (expire_at);
CREATE INDEX wrapping_index_by_creator ON wrapping_index (creator, expire_at);

-- Wraps stored before this migration are indexed as due at time 0: the first tidy reads each one
-- once and either deletes it or records its real expiry and creator.
INSERT INTO wrapping_index (accessor, creator, expire_at)
SELECT substr(path, length('core/wrapping/') + 1), '', 0 FROM entries WHERE path >= 'core/wrapping/' AND path < 'core/wrapping0';
