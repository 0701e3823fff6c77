"""A tour of the API through Debian's python3-hvac, each call exactly as hvac makes it.

Run by test/clients/hvac.test.ts with VAULT_ADDR and VAULT_TOKEN set (and AUDIT_FILE, a path
for the file audit device). Asserts as it goes, exits non-zero on the first failure, and prints
one JSON object of results on success.
"""
import json
import os
import sys

import hvac

from common import check

addr = os.environ["VAULT_ADDR"]
root = os.environ["VAULT_TOKEN"]
client = hvac.Client(url=addr, token=root)
out = {}



# Engines with hvac's defaults: description, config and options all sent as null.
client.sys.enable_secrets_engine("kv", path="kv", options={"version": "2"})
client.sys.enable_secrets_engine("kv", path="plain")
mounts = client.sys.list_mounted_secrets_engines()
check("kv/" in mounts["data"] and "plain/" in mounts["data"], "mounts listed")

# KV v2, every call.
kv = client.secrets.kv.v2
kv.create_or_update_secret("app/db", secret={"password": "a"}, mount_point="kv")
kv.create_or_update_secret("app/db", secret={"password": "b"}, cas=1, mount_point="kv")
try:
    kv.create_or_update_secret("app/db", secret={"password": "c"}, cas=1, mount_point="kv")
    check(False, "cas mismatch refused")
except hvac.exceptions.InvalidRequest as e:
    check("check-and-set" in str(e), "cas error text")
check(kv.read_secret_version("app/db", version=1, mount_point="kv")["data"]["data"] == {"password": "a"}, "read v1")
check(kv.read_secret_version("app/db", mount_point="kv")["data"]["data"] == {"password": "b"}, "read latest")
check(kv.list_secrets("app", mount_point="kv")["data"]["keys"] == ["db"], "list")
kv.patch("app/db", secret={"user": "u"}, mount_point="kv")
check(kv.read_secret_version("app/db", mount_point="kv")["data"]["data"] == {"password": "b", "user": "u"}, "patch")
kv.create_or_update_secret("nulls", secret={"kept": None}, mount_point="kv")
check(kv.read_secret_version("nulls", mount_point="kv")["data"]["data"] == {"kept": None}, "null inside secret data is data")
kv.delete_latest_version_of_secret("app/db", mount_point="kv")
kv.undelete_secret_versions("app/db", versions=[3], mount_point="kv")
kv.delete_secret_versions("app/db", versions=[2], mount_point="kv")
kv.destroy_secret_versions("app/db", versions=[1], mount_point="kv")
meta = kv.read_secret_metadata("app/db", mount_point="kv")["data"]
check(meta["versions"]["1"]["destroyed"] is True and meta["versions"]["2"]["deletion_time"] != "", "metadata versions")
kv.update_metadata("app/db", max_versions=5, mount_point="kv")
check(kv.read_secret_metadata("app/db", mount_point="kv")["data"]["max_versions"] == 5, "update_metadata")
kv.configure(max_versions=10, mount_point="kv")
check(kv.read_configuration(mount_point="kv")["data"]["max_versions"] == 10, "kv config")
kv.delete_metadata_and_all_versions("app/db", mount_point="kv")
check(kv.list_secrets("", mount_point="kv")["data"]["keys"] == ["nulls"], "metadata deleted")

# KV v1.
client.secrets.kv.v1.create_or_update_secret("a", secret={"k": "v"}, mount_point="plain")
check(client.secrets.kv.v1.read_secret("a", mount_point="plain")["data"] == {"k": "v"}, "kv1 read")
check(client.secrets.kv.v1.list_secrets("", mount_point="plain")["data"]["keys"] == ["a"], "kv1 list")
client.secrets.kv.v1.delete_secret("a", mount_point="plain")
client.secrets.kv.v1.create_or_update_secret("n", secret={"x": None}, mount_point="plain")
check(client.secrets.kv.v1.read_secret("n", mount_point="plain")["data"] == {"x": None}, "kv1 keeps null data")

# Generic Client.read/write/list/delete; list sends GET ?list=True.
client.write("kv/data/generic", data={"x": "1"})
check(client.read("kv/data/generic")["data"]["data"] == {"x": "1"}, "generic read")
check("generic" in client.list("kv/metadata/")["data"]["keys"], "generic list of kv metadata")
client.delete("kv/metadata/generic")
check(client.read("kv/data/generic") is None, "generic delete")

# Policies.
client.sys.create_or_update_policy("reader", 'path "kv/data/*" { capabilities = ["read"] }')
check("kv/data/*" in client.sys.read_policy("reader")["data"]["rules"], "read_policy")
check("reader" in client.sys.list_policies()["data"]["policies"], "list_policies")
check("reader" in client.list("sys/policies/acl")["data"]["keys"], "generic list of policies")
client.sys.delete_policy("reader")
check("reader" not in client.sys.list_policies()["data"]["policies"], "delete_policy")
client.sys.create_or_update_policy("reader", 'path "kv/data/*" { capabilities = ["read"] }')

# Tokens: the older create_token (every unset option null), orphan, role, lookup, renew, revoke, accessors.
orphan = client.create_token(policies=["reader"], orphan=True, ttl="1h")["auth"]
check(orphan["orphan"] is True, "create_token orphan")
made = client.auth.token.create(policies=["reader"], ttl="1h", renewable=True, meta={"team": "a"})["auth"]
tok = made["client_token"]
looked = client.auth.token.lookup(tok)["data"]
check(looked["meta"] == {"team": "a"} and "reader" in looked["policies"], "lookup")
check(client.auth.token.renew(tok, increment="2h")["auth"]["lease_duration"] == 7200, "renew")
check(client.auth.token.lookup_accessor(made["accessor"])["data"]["accessor"] == made["accessor"], "lookup_accessor")
check(made["accessor"] in client.auth.token.list_accessors()["data"]["keys"], "list_accessors")
client.auth.token.create_or_update_role("ci", allowed_policies=["reader"], orphan=True)
by_role = client.auth.token.create(role_name="ci", policies=["reader"])["auth"]
check(by_role["orphan"] is True, "create with role")
user = hvac.Client(url=addr, token=tok)
check(user.auth.token.lookup_self()["data"]["id"] == tok, "lookup_self")
user.auth.token.renew_self()
client.auth.token.revoke(tok)
check(not user.is_authenticated(), "revoked")
client.auth.token.revoke_accessor(orphan["accessor"])

# AppRole: enable with defaults, role, role id, secret id without metadata, login.
client.sys.enable_auth_method("approle")
client.auth.approle.create_or_update_approle("web", token_policies=["reader"], token_ttl="1h")
role_id = client.auth.approle.read_role_id("web")["data"]["role_id"]
secret_id = client.auth.approle.generate_secret_id("web")["data"]["secret_id"]
login = client.auth.approle.login(role_id, secret_id, use_token=False)["auth"]
check("reader" in login["policies"], "approle login")
check("web" in client.auth.approle.list_roles()["data"]["keys"], "approle list_roles")
check("approle/" in client.sys.list_auth_methods()["data"], "list_auth_methods")

# Leases, with a leased secret from the test engine mounted at dyn/ by the test.
issued = client.read("dyn/creds/web")
lease_id = issued["lease_id"]
check(client.sys.read_lease(lease_id)["data"]["id"] == lease_id, "read_lease")
check(len(client.sys.list_leases("dyn/creds/web")["data"]["keys"]) == 1, "list_leases")
check(client.sys.renew_lease(lease_id)["lease_id"] == lease_id, "renew_lease without increment")
check(client.sys.renew_lease(lease_id, increment=300)["lease_duration"] == 300, "renew_lease with increment")
client.sys.revoke_lease(lease_id)
client.read("dyn/creds/web")
client.sys.revoke_prefix("dyn/creds")
client.read("dyn/creds/web")
client.sys.revoke_force("dyn/creds")

# Wrapping.
# hvac 0.11 has no sys.wrap: Client.write with wrap_ttl sends the X-Vault-Wrap-TTL header.
wrapped = client.write("sys/wrapping/wrap", pw="x", wrap_ttl="120s")["wrap_info"]
check(client.write("sys/wrapping/lookup", token=wrapped["token"])["data"]["creation_path"] == "sys/wrapping/wrap", "wrap lookup")
check(client.sys.unwrap(wrapped["token"])["data"] == {"pw": "x"}, "wrap/unwrap")

# Audit.
client.sys.enable_audit_device("file", options={"file_path": os.environ["AUDIT_FILE"]})
check("file/" in client.sys.list_enabled_audit_devices()["data"], "audit listed")
client.secrets.kv.v2.create_or_update_secret("audited", secret={"password": "planted-audit-value"}, mount_point="kv")
hashed = client.sys.calculate_hash("file", "planted-audit-value")["data"]["hash"]
with open(os.environ["AUDIT_FILE"]) as f:
    log = f.read()
check(hashed in log and "planted-audit-value" not in log and root not in log, "audit log hashes values and tokens")
client.sys.disable_audit_device("file")

# Health carries the cluster id.
out["cluster_id"] = client.sys.read_health_status(method="GET")["cluster_id"]
print(json.dumps(out))
