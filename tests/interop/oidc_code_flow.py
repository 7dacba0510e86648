"""The hosted sign-in, driven by an ordinary OIDC client library (authlib).

Run by scripts/aws-interop.sh against a running `scopegate issuer`:
    python3 tests/interop/oidc_code_flow.py ISSUER_URL CLIENT_ID USERNAME PASSWORD
ISSUER_URL is the pool's issuer (`http://127.0.0.1:PORT/POOL_ID`); the
client is public, allowed the code flow with the callback below. Every
endpoint is discovered from `<issuer>/.well-known/openid-configuration`;
the login form is posted the way a browser would (reading `_csrf`). Every
check is an assertion; any failure exits non-zero.
"""

import html
import re
import sys
import urllib.parse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

issuer, client_id, username, password = sys.argv[1:5]
CALLBACK = "http://localhost:8765/callback"
READ = "https://photos.example.com/photos.read"

meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
assert meta["issuer"] == issuer, meta
assert "S256" in meta["code_challenge_methods_supported"], meta

client = OAuth2Session(
    client_id,
    scope="openid email " + READ,
    redirect_uri=CALLBACK,
    code_challenge_method="S256",
    token_endpoint_auth_method="none",
)
verifier = generate_token(64)
nonce = generate_token(16)
authorize_url, state = client.create_authorization_url(
    meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
)

# The browser's part: authorize, the form, the post.
browser = requests.Session()
answer = browser.get(authorize_url, allow_redirects=False, timeout=10)
assert answer.status_code == 302, (answer.status_code, answer.text)
login_url = urllib.parse.urljoin(authorize_url, answer.headers["Location"])
form = browser.get(login_url, timeout=10)
assert form.status_code == 200, form.status_code
csrf = re.search(r'name="_csrf" value="([^"]+)"', form.text).group(1)
action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', form.text).group(1))
assert 'name="signin"' in form.text
signed_in = browser.post(
    urllib.parse.urljoin(login_url, action),
    data={"username": username, "password": password, "_csrf": csrf, "signin": ""},
    allow_redirects=False,
    timeout=10,
)
assert signed_in.status_code == 302, (signed_in.status_code, signed_in.text)
callback = signed_in.headers["Location"]
assert callback.startswith(CALLBACK + "?"), callback

# The application's part: the code, userInfo, a refresh.
token = client.fetch_token(
    meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
)
for member in ("access_token", "id_token", "refresh_token"):
    assert member in token, token.keys()
assert token["token_type"] == "Bearer", token["token_type"]
info = client.get(meta["userinfo_endpoint"], timeout=10).json()
assert info["username"] == username, info
assert "sub" in info, info
refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
assert refreshed["access_token"] != token["access_token"]
assert client.get(meta["userinfo_endpoint"], timeout=10).status_code == 200
print("oidc code flow: ok")
