"""The local issuer, driven by the real AWS SDK for Python (boto3/botocore).

Run by scripts/aws-interop.sh against a running `scopegate issuer`:
    python3 tests/interop/boto3_cognito.py http://127.0.0.1:PORT
Every check is an assertion; any failure exits non-zero.
"""

import base64
import json
import sys
import urllib.parse
import urllib.request

import boto3

endpoint = sys.argv[1]
idp = boto3.client(
    "cognito-idp",
    endpoint_url=endpoint,
    region_name="eu-central-1",
    aws_access_key_id="AKIDLOCAL",
    aws_secret_access_key="local",
)

pool = idp.create_user_pool(PoolName="Interop")["UserPool"]
pool_id = pool["Id"]
assert pool_id.startswith("eu-central-1_"), pool_id
assert hasattr(pool["CreationDate"], "year"), "timestamps parse as datetimes"

idp.create_resource_server(
    UserPoolId=pool_id,
    Identifier="https://photos.example.com",
    Name="Photo API",
    Scopes=[
        {"ScopeName": "photos.read", "ScopeDescription": "Read photos"},
        {"ScopeName": "photos.write", "ScopeDescription": "Write photos"},
    ],
)
server = idp.describe_resource_server(UserPoolId=pool_id, Identifier="https://photos.example.com")["ResourceServer"]
assert [s["ScopeName"] for s in server["Scopes"]] == ["photos.read", "photos.write"], server

for i in range(5):
    idp.create_resource_server(UserPoolId=pool_id, Identifier=f"urn:api:{i}", Name=f"API {i}")
paginator = idp.get_paginator("list_resource_servers")
identifiers = [
    rs["Identifier"]
    for page in paginator.paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 2})
    for rs in page["ResourceServers"]
]
assert len(identifiers) == 6, identifiers

# Modelled exceptions arrive as their typed classes.
try:
    idp.create_resource_server(UserPoolId=pool_id, Identifier="https://photos.example.com", Name="Again")
    raise AssertionError("duplicate identifier accepted")
except idp.exceptions.InvalidParameterException:
    pass
try:
    idp.describe_resource_server(UserPoolId=pool_id, Identifier="urn:none")
    raise AssertionError("unknown resource server found")
except idp.exceptions.ResourceNotFoundException:
    pass
try:
    idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="public", AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["https://photos.example.com/photos.read"], AllowedOAuthFlowsUserPoolClient=True,
    )
    raise AssertionError("client_credentials without a secret accepted")
except idp.exceptions.InvalidOAuthFlowException:
    pass
try:
    idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="x", GenerateSecret=True, AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["https://photos.example.com/photos.delete"], AllowedOAuthFlowsUserPoolClient=True,
    )
    raise AssertionError("undefined scope accepted")
except idp.exceptions.ScopeDoesNotExistException:
    pass

client = idp.create_user_pool_client(
    UserPoolId=pool_id,
    ClientName="reader",
    GenerateSecret=True,
    AllowedOAuthFlows=["client_credentials"],
    AllowedOAuthScopes=["https://photos.example.com/photos.read"],
    AllowedOAuthFlowsUserPoolClient=True,
    AccessTokenValidity=30,
    TokenValidityUnits={"AccessToken": "minutes"},
)["UserPoolClient"]
described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
assert described["ClientSecret"] == client["ClientSecret"]
clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"]
assert [c["ClientId"] for c in clients] == [client["ClientId"]]

# The token endpoint, as any OAuth client calls it.
basic = base64.b64encode(f"{client['ClientId']}:{client['ClientSecret']}".encode()).decode()
request = urllib.request.Request(
    f"{endpoint}/oauth2/token",
    data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
    headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
)
with urllib.request.urlopen(request) as response:
    body = json.load(response)
assert body["token_type"] == "Bearer" and body["expires_in"] == 1800, body
payload = body["access_token"].split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
assert claims["scope"] == "https://photos.example.com/photos.read", claims
assert claims["iss"] == f"{endpoint}/{pool_id}", claims

idp.delete_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])
idp.delete_resource_server(UserPoolId=pool_id, Identifier="https://photos.example.com")
idp.delete_user_pool(UserPoolId=pool_id)
try:
    idp.describe_user_pool(UserPoolId=pool_id)
    raise AssertionError("deleted pool found")
except idp.exceptions.ResourceNotFoundException:
    pass
print("boto3 interop: ok")
