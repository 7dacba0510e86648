"""DPoP (RFC 9449) against scopegate, with proofs made by joserfc (a JOSE
library no one here wrote): a bound token from `scopegate issuer`'s token
endpoint, then `scopegate proxy` in front of an API, for an EC, an Ed25519
and an RSA key. Run by scripts/aws-interop.sh.

usage: dpop_client.py ISSUER_BASE PROXY_URL ADMIN_URL CLIENT_ID CLIENT_SECRET
"""

import base64
import hashlib
import json
import secrets
import sys
import time
import warnings

import requests
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

issuer, proxy, admin, client_id, client_secret = sys.argv[1:6]
# RFC 9864 names Ed25519 signatures "Ed25519"; scopegate (like Cognito's
# world) still says "EdDSA", which joserfc flags.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def proof(key, alg, method, htu, token=None):
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False)}
    claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": htu, "iat": int(time.time())}
    if token is not None:
        claims["ath"] = b64url(hashlib.sha256(token.encode()).digest())
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[alg])


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def expect(condition, message):
    if not condition:
        print(f"dpop interop: {message}", file=sys.stderr)
        sys.exit(1)


def get(url, scheme, token, proof_value=None):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof_value is not None:
        headers["DPoP"] = proof_value
    return requests.get(url, headers=headers, timeout=10)


endpoint = f"{issuer}/oauth2/token"
photos = f"{proxy}/photos"
keys = [
    (ECKey.generate_key("P-256"), "ES256"),
    (OKPKey.generate_key("Ed25519"), "EdDSA"),
    (RSAKey.generate_key(2048), "PS256"),
]
for key, alg in keys:
    response = requests.post(
        endpoint,
        auth=(client_id, client_secret),
        data={"grant_type": "client_credentials"},
        headers={"DPoP": proof(key, alg, "POST", endpoint)},
        timeout=10,
    )
    expect(response.status_code == 200, f"{alg}: token endpoint said {response.status_code} {response.text}")
    body = response.json()
    expect(body["token_type"] == "DPoP", f"{alg}: token_type {body['token_type']}")
    token = body["access_token"]
    claims = claims_of(token)
    expect(claims["cnf"]["jkt"] == key.thumbprint(), f"{alg}: cnf.jkt is not joserfc's RFC 7638 thumbprint")

    once = proof(key, alg, "GET", photos, token)
    response = get(photos, "DPoP", token, once)
    expect(response.status_code == 200, f"{alg}: GET with a proof said {response.status_code}")
    replay = get(photos, "DPoP", token, once)
    expect(replay.status_code == 401, f"{alg}: a replayed proof said {replay.status_code}")
    expect('error="invalid_dpop_proof"' in replay.headers.get("WWW-Authenticate", ""), f"{alg}: replay challenge")
    bearer = get(photos, "Bearer", token)
    expect(bearer.status_code == 401, f"{alg}: the bound token as Bearer said {bearer.status_code}")
    post = requests.post(f"{proxy}/photos", headers={"Authorization": f"DPoP {token}", "DPoP": proof(key, alg, "GET", photos, token)}, timeout=10)
    expect(post.status_code == 401, f"{alg}: a GET proof on a POST said {post.status_code}")

    # Revoked on the admin listener: refused from the next request on.
    revoked = requests.post(f"{admin}/revocations", json={"jti": claims["jti"]}, timeout=10)
    expect(revoked.status_code == 204, f"{alg}: POST /revocations said {revoked.status_code}")
    after = get(photos, "DPoP", token, proof(key, alg, "GET", photos, token))
    expect(after.status_code == 401, f"{alg}: a revoked token said {after.status_code}")
    print(f"dpop interop ({alg}): ok")
