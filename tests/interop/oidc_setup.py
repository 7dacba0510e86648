"""Sets up the OIDC code-flow interop check with boto3: a pool, the photo
API, a public client allowed the code flow, and a user (AdminCreateUser,
then AdminSetUserPassword --permanent).

    python3 tests/interop/oidc_setup.py MANAGEMENT_ENDPOINT
prints `POOL_ID CLIENT_ID USERNAME PASSWORD`.
"""

import sys

import boto3

endpoint = sys.argv[1]
idp = boto3.client(
    "cognito-idp",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKIDLOCAL",
    aws_secret_access_key="local",
)
pool_id = idp.create_user_pool(PoolName="OidcInterop")["UserPool"]["Id"]
idp.create_resource_server(
    UserPoolId=pool_id,
    Identifier="https://photos.example.com",
    Name="Photo API",
    Scopes=[{"ScopeName": "photos.read", "ScopeDescription": "Read photos"}],
)
client_id = idp.create_user_pool_client(
    UserPoolId=pool_id,
    ClientName="web",
    AllowedOAuthFlows=["code"],
    AllowedOAuthScopes=["openid", "email", "https://photos.example.com/photos.read"],
    AllowedOAuthFlowsUserPoolClient=True,
    CallbackURLs=["http://localhost:8765/callback"],
)["UserPoolClient"]["ClientId"]
username, password = "interop-user", "Interop-Pass-1"
idp.admin_create_user(
    UserPoolId=pool_id,
    Username=username,
    UserAttributes=[{"Name": "email", "Value": "interop@example.com"}],
    MessageAction="SUPPRESS",
)
idp.admin_set_user_password(
    UserPoolId=pool_id, Username=username, Password=password, Permanent=True
)
print(pool_id, client_id, username, password)
