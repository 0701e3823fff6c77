# Dynamic PostgreSQL credentials through hvac's database API, each call exactly as hvac makes it:
# mount with defaults, configure the connection, create a role, generate, look up, renew and revoke.
import json
import os
import sys

from common import check, root_client

client = root_client()

client.sys.enable_secrets_engine("database")
client.secrets.database.configure(
    name="pg",
    plugin_name="postgresql-database-plugin",
    allowed_roles=["app"],
    connection_url=os.environ["PG_CONNECTION_URL"],
    username=os.environ["PG_USERNAME"],
    password=os.environ["PG_PASSWORD"],
)
check(client.secrets.database.read_connection("pg")["data"]["plugin_name"] == "postgresql-database-plugin", "read_connection")
client.secrets.database.create_role(
    name="app",
    db_name="pg",
    creation_statements=[os.environ["CREATION_SQL"]],
    default_ttl="1h",
    max_ttl="2h",
)
check(client.secrets.database.read_role("app")["data"]["db_name"] == "pg", "read_role")
check("app" in client.secrets.database.list_roles()["data"]["keys"], "list_roles")

creds = client.secrets.database.generate_credentials("app")
lease_id = creds["lease_id"]
check(creds["lease_duration"] == 3600 and creds["renewable"], "generate_credentials lease")
lease = client.sys.read_lease(lease_id)
check(lease["data"]["id"] == lease_id, "read_lease")
renewed = client.sys.renew_lease(lease_id)
check(renewed["lease_id"] == lease_id, "renew_lease")
print(json.dumps({"username": creds["data"]["username"], "password": creds["data"]["password"], "lease_id": lease_id}))
sys.stdout.flush()
# The caller checks the role exists, then asks for the revocation by writing REVOKE to stdin.
if sys.stdin.readline().strip() == "REVOKE":
    client.sys.revoke_lease(lease_id)
    print(json.dumps({"revoked": True}))
