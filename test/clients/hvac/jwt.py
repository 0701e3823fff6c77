# JWT login through hvac's jwt auth API, each call exactly as hvac 0.11 makes it (its create_role
# sends every OIDC option, set or not): enable, configure with a PEM key, create a role, log in.
import json
import os
import sys

import hvac

from common import check, root_client

client = root_client()


client.sys.enable_auth_method("jwt")
client.auth.jwt.configure(jwt_validation_pubkeys=[os.environ["JWT_PUBLIC_PEM"]], bound_issuer=os.environ["JWT_ISSUER"])
client.auth.jwt.create_role(
    name="ci",
    user_claim="sub",
    allowed_redirect_uris=[],
    bound_audiences=[os.environ["JWT_AUDIENCE"]],
    token_policies=["default"],
    token_ttl="10m",
)
check(client.auth.jwt.read_role("ci")["data"]["user_claim"] == "sub", "read_role")
check("ci" in client.auth.jwt.list_roles()["data"]["keys"], "list_roles")

login = hvac.Client(url=os.environ["VAULT_ADDR"])
auth = login.auth.jwt.jwt_login(role="ci", jwt=os.environ["JWT"])["auth"]
check(login.is_authenticated(), "jwt_login token works")
me = login.auth.token.lookup_self()["data"]
check(me["entity_id"] == auth["entity_id"] and auth["entity_id"] != "", "entity_id on the token")
print(json.dumps({"policies": auth["policies"], "ttl": auth["lease_duration"], "display_name": me["display_name"]}))
