# Control groups from hvac 0.11, as Vault documents them: the requester's read answers wrap_info
# (the justification travels as a session header), approvers call sys/control-group/authorize through
# the adapter, and client.sys.unwrap fails before approval and returns the credential after it.
import json
import os

import hvac
import requests

from common import check

addr = os.environ["VAULT_ADDR"]
session = requests.Session()
session.headers["X-Leasehold-Justification"] = "INC-77 hvac"
requester = hvac.Client(url=addr, token=os.environ["REQUESTER_TOKEN"], session=session)
alice = hvac.Client(url=addr, token=os.environ["ALICE_TOKEN"])
bob = hvac.Client(url=addr, token=os.environ["BOB_TOKEN"])

asked = requester.read("database/creds/cghvac")
check(asked["data"] is None, "no data before approval")
wrap = asked["wrap_info"]
check(sorted(wrap.keys()) == ["accessor", "creation_path", "creation_time", "token", "ttl"], "wrap_info keys: %s" % sorted(wrap.keys()))

status = requester.adapter.post("/v1/sys/control-group/request", json={"accessor": wrap["accessor"]})["data"]
check(status["approved"] is False and status["request_path"] == "database/creds/cghvac", "status before approval")
check(status["justification"] == "INC-77 hvac", "justification from the session header")

try:
    requester.sys.unwrap(wrap["token"])
    check(False, "unwrap before approval must fail")
except hvac.exceptions.InvalidRequest as error:
    check("request needs further approval" in str(error), "unwrap error: %s" % error)

check(alice.adapter.post("/v1/sys/control-group/authorize", json={"accessor": wrap["accessor"]})["data"]["approved"] is False, "first approval")
check(bob.adapter.post("/v1/sys/control-group/authorize", json={"accessor": wrap["accessor"]})["data"]["approved"] is True, "second approval")
status = alice.adapter.post("/v1/sys/control-group/request", json={"accessor": wrap["accessor"]})["data"]
check(len(status["authorizations"]) == 2, "two authorizations")

# The wrapping token as the client token, as hvac's docs show for unwrap without a token argument.
holder = hvac.Client(url=addr, token=wrap["token"])
released = holder.sys.unwrap()
print(json.dumps({"username": released["data"]["username"], "password": released["data"]["password"], "lease_id": released["lease_id"]}))
