#!/usr/bin/env python3
"""Writes the fixed key set (keys.json) and the seed corpora of the fuzz
targets. The keys come from fixed secrets, so keys.json never changes (the
ES256 seed signatures do: ECDSA signing is randomised). Needs the Python
`cryptography` package; only for changing the seeds, never for fuzzing."""

import base64
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://issuer.example/pool"
CLIENT = "fuzz-client"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


ed_key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))
ec_key = ec.derive_private_key(0x5EED5EED5EED5EED5EED5EED5EED5EED, ec.SECP256R1())

ed_public = ed_key.public_key().public_bytes_raw()
ec_numbers = ec_key.public_key().public_numbers()
keys = {
    "keys": [
        {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "ed", "x": b64(ed_public)},
        {
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "kid": "ec",
            "x": b64(ec_numbers.x.to_bytes(32, "big")),
            "y": b64(ec_numbers.y.to_bytes(32, "big")),
        },
    ]
}


def sign(kid: str, header_extra: dict, claims: dict | bytes) -> str:
    alg = "EdDSA" if kid == "ed" else "ES256"
    header = {"alg": alg, "kid": kid, **header_extra}
    payload = claims if isinstance(claims, bytes) else compact(claims)
    signing_input = f"{b64(compact(header))}.{b64(payload)}".encode()
    if kid == "ed":
        signature = ed_key.sign(signing_input)
    else:
        r, s = decode_dss_signature(ec_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode()}.{b64(signature)}"


claims = {
    "sub": CLIENT,
    "token_use": "access",
    "scope": "https://api.example/read https://api.example/write",
    "auth_time": 1700000000,
    "iss": ISSUER,
    "exp": 4102444800,
    "iat": 1700000000,
    "version": 2,
    "jti": "3f2a7c55-0d5e-4c8e-9d55-6f1f5b3b2a10",
    "client_id": CLIENT,
}
tokens = {
    "ed-valid": sign("ed", {}, claims),
    "ec-valid": sign("ec", {"typ": "at+jwt"}, {**claims, "aud": ["https://api.example"]}),
    "ed-expired": sign("ed", {}, {**claims, "exp": 1700000600}),
    "ed-id-token": sign("ed", {}, {**claims, "token_use": "id"}),
    "ed-nbf": sign("ed", {}, {**claims, "nbf": 4102444000}),
    "ed-empty-payload": sign("ed", {}, b""),
    "ed-crit": sign("ed", {"crit": ["exp"]}, claims),
    "alg-none": f"{b64(compact({'alg': 'none', 'kid': 'ed'}))}.{b64(compact(claims))}.",
}


def write(target: str, name: str, data: bytes) -> None:
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
        f.write(data)


with open(os.path.join(HERE, "keys.json"), "w") as f:
    json.dump(keys, f, indent=2)
    f.write("\n")

for name, token in tokens.items():
    write("token", name, token.encode())
write("token", "claims", compact(claims))

for name, token in [("valid", tokens["ed-valid"]), ("expired", tokens["ed-expired"])]:
    write("bearer", name, f"Bearer {token}".encode())
for name, value in [
    ("lowercase", b"bearer abc.def.ghi"),
    ("spaces", b"Bearer    abc"),
    ("basic", b"Basic dXNlcjpwYXNz"),
    ("quoted", b'Bearer "abc"'),
    ("empty", b"Bearer"),
    ("padded", b"Bearer abc=="),
    ("non-ascii", b"Bearer \xc3\xa9t\xc3\xa9"),
]:
    write("bearer", name, value)

write("jwks", "fixed", compact(keys))
write(
    "jwks",
    "mixed",
    compact(
        {
            "keys": [
                {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
                {**keys["keys"][0], "use": "enc", "kid": "enc"},
                {**keys["keys"][1], "d": "AAAA", "kid": "private"},
                {"kty": "RSA", "kid": "rsa", "alg": "RS256", "e": "AQAB", "n": b64(b"\xc5" * 256)},
                {"kty": "EC", "crv": "P-384", "kid": "p384", "x": b64(b"\x01" * 48), "y": b64(b"\x02" * 48)},
                keys["keys"][0],
            ]
        }
    ),
)
write("jwks", "not-a-set", b'{"keys":{}}')
write("jwks", "duplicate", b'{"keys":[],"keys":[]}')
