"""USER_SRP_AUTH against the local issuer, driven by a real client library
(pycognito's AWSSRP, which computes SRP as amazon-cognito-identity-js does).

Used by tests/interop/boto3_cognito.py (sign_in). Standalone, it needs a pool, an app client
that allows ALLOW_USER_SRP_AUTH and a user with a password. Then:
    python3 tests/interop/srp_check.py ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD
prints "srp sign-in: ok" when an access token came back, and exits non-zero
otherwise.
"""

import sys

import boto3
from pycognito.aws_srp import AWSSRP


def sign_in(endpoint, pool_id, client_id, username, password):
    """Signs in with USER_SRP_AUTH; returns the AuthenticationResult."""
    client = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=pool_id.split("_")[0],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    srp = AWSSRP(
        username=username,
        password=password,
        pool_id=pool_id,
        client_id=client_id,
        client=client,
    )
    return srp.authenticate_user()["AuthenticationResult"]


def main(argv):
    if len(argv) != 6:
        sys.exit(f"usage: {argv[0]} ENDPOINT POOL_ID CLIENT_ID USERNAME PASSWORD")
    result = sign_in(*argv[1:])
    if not result.get("AccessToken"):
        sys.exit(f"srp sign-in: no AccessToken in {sorted(result)}")
    print("srp sign-in: ok")


if __name__ == "__main__":
    main(sys.argv)
