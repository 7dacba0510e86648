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

# Users, groups and the sign-in APIs.
people = idp.create_user_pool(
    PoolName="People",
    Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True, "RequireLowercase": True,
                                 "RequireNumbers": True, "RequireSymbols": False, "TemporaryPasswordValidityDays": 2}},
)["UserPool"]
people_id = people["Id"]
assert people["Policies"]["PasswordPolicy"]["MinimumLength"] == 10, people["Policies"]
app_id = idp.create_user_pool_client(
    UserPoolId=people_id,
    ClientName="app",
    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
)["UserPoolClient"]["ClientId"]
created = idp.admin_create_user(
    UserPoolId=people_id, Username="alice", TemporaryPassword="Temporary1x", MessageAction="SUPPRESS",
    UserAttributes=[{"Name": "email", "Value": "alice@example.com"}],
)["User"]
assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and hasattr(created["UserCreateDate"], "year"), created
try:
    idp.admin_create_user(UserPoolId=people_id, Username="alice")
    raise AssertionError("a duplicate user was created")
except idp.exceptions.UsernameExistsException:
    pass
try:
    idp.admin_set_user_password(UserPoolId=people_id, Username="alice", Password="short", Permanent=True)
    raise AssertionError("a password against the policy was accepted")
except idp.exceptions.InvalidPasswordException:
    pass
auth = idp.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=app_id,
                         AuthParameters={"USERNAME": "alice", "PASSWORD": "Temporary1x"})
assert auth["ChallengeName"] == "NEW_PASSWORD_REQUIRED", auth
auth = idp.respond_to_auth_challenge(ClientId=app_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=auth["Session"],
                                     ChallengeResponses={"USERNAME": "alice", "NEW_PASSWORD": "Permanent1x"})
tokens = auth["AuthenticationResult"]
assert tokens["TokenType"] == "Bearer" and tokens["RefreshToken"], sorted(tokens)
assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"

idp.create_group(UserPoolId=people_id, GroupName="editors", Precedence=1)
idp.admin_add_user_to_group(UserPoolId=people_id, Username="alice", GroupName="editors")
groups = idp.admin_list_groups_for_user(UserPoolId=people_id, Username="alice")["Groups"]
assert [g["GroupName"] for g in groups] == ["editors"], groups
members = idp.list_users_in_group(UserPoolId=people_id, GroupName="editors")["Users"]
assert [u["Username"] for u in members] == ["alice"], members
found = idp.list_users(UserPoolId=people_id, Filter='email = "alice@example.com"')["Users"]
assert [u["Username"] for u in found] == ["alice"], found
try:
    idp.list_users(UserPoolId=people_id, Filter="email alice")
    raise AssertionError("a malformed filter was accepted")
except idp.exceptions.InvalidParameterException:
    pass

signed_up = idp.sign_up(ClientId=app_id, Username="bob", Password="Bobs-passw0rd",
                        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
assert signed_up["UserConfirmed"] is False and signed_up["UserSub"], signed_up
with urllib.request.urlopen(f"{endpoint}/_local/{people_id}/messages") as response:
    messages = json.load(response)["Messages"]
assert messages[0]["username"] == "bob", messages
try:
    idp.confirm_sign_up(ClientId=app_id, Username="bob", ConfirmationCode="000000" if messages[0]["code"] != "000000" else "111111")
    raise AssertionError("a wrong code was accepted")
except idp.exceptions.CodeMismatchException:
    pass
idp.confirm_sign_up(ClientId=app_id, Username="bob", ConfirmationCode=messages[0]["code"])
bob = idp.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=app_id,
                        AuthParameters={"USERNAME": "bob", "PASSWORD": "Bobs-passw0rd"})["AuthenticationResult"]
refreshed = idp.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=app_id,
                              AuthParameters={"REFRESH_TOKEN": bob["RefreshToken"]})["AuthenticationResult"]
assert "RefreshToken" not in refreshed and refreshed["AccessToken"], sorted(refreshed)
idp.global_sign_out(AccessToken=bob["AccessToken"])
try:
    idp.get_user(AccessToken=refreshed["AccessToken"])
    raise AssertionError("a signed-out access token was accepted")
except idp.exceptions.NotAuthorizedException:
    pass

# USER_SRP_AUTH, by pycognito's SRP client.
sys.path.insert(0, __import__("os").path.dirname(__file__))
import srp_check  # noqa: E402

srp_tokens = srp_check.sign_in(endpoint, people_id, app_id, "alice", "Permanent1x")
assert idp.get_user(AccessToken=srp_tokens["AccessToken"])["Username"] == "alice"
try:
    srp_check.sign_in(endpoint, people_id, app_id, "alice", "Wrong-passw0rd")
    raise AssertionError("SRP with a wrong password signed in")
except idp.exceptions.NotAuthorizedException:
    pass
idp.delete_user_pool(UserPoolId=people_id)

# A pool with e-mail addresses as user names: the user name is the sub, and
# SRP runs with USER_ID_FOR_SRP.
by_email = idp.create_user_pool(PoolName="ByEmail", UsernameAttributes=["email"])["UserPool"]["Id"]
email_app = idp.create_user_pool_client(UserPoolId=by_email, ClientName="app",
                                        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
user = idp.admin_create_user(UserPoolId=by_email, Username="dora@example.com", MessageAction="SUPPRESS")["User"]
idp.admin_set_user_password(UserPoolId=by_email, Username="dora@example.com", Password="Doras-passw0rd!", Permanent=True)
email_tokens = srp_check.sign_in(endpoint, by_email, email_app, "dora@example.com", "Doras-passw0rd!")
assert idp.get_user(AccessToken=email_tokens["AccessToken"])["Username"] == user["Username"]
idp.delete_user_pool(UserPoolId=by_email)
print("boto3 interop: ok")
