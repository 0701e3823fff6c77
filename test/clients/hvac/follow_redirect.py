"""Reads through a doubled slash as vault-action's documented `/kv/...` form produces, and
prints what hvac's session got after following Vault's 301 (VAULT_ADDR, VAULT_TOKEN, READ_PATH)."""
import json
import os

import hvac

client = hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])
response = client.adapter.get(os.environ["READ_PATH"])
print(json.dumps({"data": response["data"]["data"]}))
