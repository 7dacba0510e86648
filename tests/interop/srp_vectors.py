"""Known-answer vectors for src/local/srp.rs, computed by a real client.

The client side is pycognito's own (AWSSRP.process_challenge); only the
server's B is computed here, from fixed values, the way Cognito does:
B = (k*v + g^b) mod N with v = g^x mod N. The printed values are pasted into
the Rust test `known_answer_vectors_from_pycognito`.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pycognito
    /tmp/venv/bin/python tests/interop/srp_vectors.py
"""

import base64
import hashlib

from pycognito import aws_srp

VECTORS = [
    {
        "pool_id": "us-east-1_AbCdEf123",
        "username": "alice",
        "password": "correct horse battery staple",
        # High bit set: x hashes a 00 byte in front of it.
        "salt": "f0e1d2c3b4a5968778695a4b3c2d1e0f",
        "b": "86125163cd8fee1d037c6d7b080d4e8c2703eeaced4e27700158fa5507d2d345c4ff9410318ff10f5bb2beb08a4cb27552ceaaecbed6322938c227675b5ae1ba240523a432456cbc741ff16b960fd6c360237c6432ceb4da1201e7499767c912f349434ecaec007e47995d1215ab3d5ae7af867956bbe1e33ed33ccae6876d66",
        "a": "5b91f33728bad354f13ecb64cdec277fdb10751cd999755689bac2af76698df314b15d66eef3ddc93a0dfbbc8609ff00104ab3873b976ae87659ffb1e15b0c9a2cc2ef6653e476ddd1a4b6ddfe4ab6841d87c2f180b583487fabb68a1ffc3dd84e5fbbba72cc1468effb100ebf22424f4cc2b41e072a5f35d5707937324ba5a8",
        "timestamp": "Tue Dec 1 02:03:04 UTC 2026",
    },
    {
        "pool_id": "eu-west-2_Zz9Yy8Xx7",
        "username": "bob@example.com",
        "password": "p\u00e4ssw\u00f6rd \u2713",
        # A leading zero byte: SALT goes out as "a1b2...", 30 hex digits.
        "salt": "00a1b2c3d4e5f60718293a4b5c6d7e8f",
        "b": "962cbe45d6d0c672a0d7ec16b53b5b2f581532aafc5c0c03bc22a2c826d2890977808d7f2d5e033ce30afe54ced8a920dfb0a6bf041cd4be6da481c4771f01f900c7594034f27a12719e8fdb13737bb4afea1855375e6964e47ffeea1bc1bc3ca88c249455ce37e97c96d73121a362e67e8570cb28c6348946acff88aa75f550",
        "a": "810d07b2a6fd0a90a5bdd28a129569b671b10ef2a7a42a3f9e47af27d0601779f9bd939909f8dc2e1547caf1ce7b3880bbe2241ed44c22d4554be2b4db95db40f41dc52c9aebf0a3069822847c6683dd9baf0c42f9b459d51ec732e55ec485b582d0801452c1b720dd6642142cf6d4af70797c268b93877ac024dc50979fa71d",
        "timestamp": "Sat Sep 5 09:03:07 UTC 2026",
    },
]


def secret_block(vector):
    """A fixed 96-byte secret block derived from the vector's username."""
    seed = vector["username"].encode()
    blob = b"".join(hashlib.sha256(seed + bytes([i])).digest() for i in range(3))
    return base64.standard_b64encode(blob).decode()


def server_b(srp, vector):
    salt_hex = f"{int(vector['salt'], 16):x}"
    pool_name = vector["pool_id"].split("_")[1]
    identity = aws_srp.hash_sha256(
        f"{pool_name}{vector['username']}:{vector['password']}".encode()
    )
    x = aws_srp.hex_to_long(aws_srp.hex_hash(aws_srp.pad_hex(salt_hex) + identity))
    v = pow(srp.val_g, x, srp.big_n)
    b = int(vector["b"], 16)
    return salt_hex, (srp.val_k * v + pow(srp.val_g, b, srp.big_n)) % srp.big_n


def main():
    for vector in VECTORS:
        srp = aws_srp.AWSSRP(
            username=vector["username"],
            password=vector["password"],
            pool_id=vector["pool_id"],
            client_id="unused",
            client=object(),
        )
        srp.small_a_value = int(vector["a"], 16)
        srp.large_a_value = srp.calculate_a()
        salt_hex, big_b = server_b(srp, vector)
        block = secret_block(vector)
        timestamp = vector["timestamp"]
        aws_srp.AWSSRP.get_cognito_formatted_timestamp = staticmethod(lambda _: timestamp)
        challenge = {
            "USER_ID_FOR_SRP": vector["username"],
            "SALT": salt_hex,
            "SRP_B": aws_srp.long_to_hex(big_b),
            "SECRET_BLOCK": block,
        }
        response = srp.process_challenge(challenge, {"USERNAME": vector["username"]})
        print(f"pool_id: {vector['pool_id']}")
        print(f"username: {vector['username']}")
        print(f"password: {vector['password']}")
        print(f"salt: {vector['salt']}")
        print(f"SALT: {salt_hex}")
        print(f"b: {vector['b']}")
        print(f"a: {vector['a']}")
        print(f"SRP_B: {challenge['SRP_B']}")
        print(f"SRP_A: {srp.get_auth_params()['SRP_A']}")
        print(f"SECRET_BLOCK: {block}")
        print(f"TIMESTAMP: {response['TIMESTAMP']}")
        print(f"PASSWORD_CLAIM_SIGNATURE: {response['PASSWORD_CLAIM_SIGNATURE']}")
        print(f"k: {srp.val_k:x}")
        print()


if __name__ == "__main__":
    main()
