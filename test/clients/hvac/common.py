"""What the hvac scripts share: a client from VAULT_ADDR/VAULT_TOKEN, and a check that exits non-zero."""
import os
import sys

import hvac


def root_client():
    """A client with the token the test passed in VAULT_TOKEN."""
    return hvac.Client(url=os.environ["VAULT_ADDR"], token=os.environ["VAULT_TOKEN"])


def check(cond, what):
    """Stops the script with exit code 1, naming the failed check on stderr."""
    if not cond:
        print("check failed: " + what, file=sys.stderr)
        sys.exit(1)
