#!/usr/bin/env python3
"""Writes idp.json: an identity provider's keys and tokens, made by an independent
implementation (PyJWT with `cryptography`), for keycard's verify-only tests.

    python3 tests/vectors/foreign/generate.py   # needs pip install pyjwt cryptography

- jwks: the public JWK Set (RS256, PS256 on one RSA-2048 key; ES384), as a provider serves it;
- private: the same keys as PKCS#8 DER (base64), for tests that sign attack tokens and their
  positive controls (test keys only, never used anywhere else);
- tokens: access tokens PyJWT signed, with `typ` JWT, none, at+jwt, and one rt+jwt;
- bad_keys: JWKs keycard must refuse (RSA-1024, e = 1, an even e, a private RSA member).
"""
import base64
import json
import os

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def i2b(i):
    return i.to_bytes((i.bit_length() + 7) // 8, "big")


def pkcs8(key):
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode()


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pn = rsa_key.public_key().public_numbers()
ec_key = ec.generate_private_key(ec.SECP384R1())
en = ec_key.public_key().public_numbers()
short = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_numbers()

rs = {"kty": "RSA", "alg": "RS256", "kid": "idp-rs256", "use": "sig", "n": b64(i2b(pn.n)), "e": b64(i2b(pn.e))}
ps = dict(rs, alg="PS256", kid="idp-ps256")
es = {
    "kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "idp-es384", "use": "sig",
    "x": b64(en.x.to_bytes(48, "big")), "y": b64(en.y.to_bytes(48, "big")),
}
claims = {
    "iss": "https://idp.example", "sub": "alice", "aud": "api",
    "iat": 1800000000, "nbf": 1800000000, "exp": 1800000300, "jti": "AAECAwQFBgcICQoLDA0ODw",
}
tokens = {}
for name, key, alg, kid, typ in [
    ("rs256_jwt_typ", rsa_key, "RS256", "idp-rs256", "JWT"),
    ("rs256_no_typ", rsa_key, "RS256", "idp-rs256", None),
    ("ps256_at_jwt", rsa_key, "PS256", "idp-ps256", "at+jwt"),
    ("es384_jwt_typ", ec_key, "ES384", "idp-es384", "JWT"),
    ("rs256_rt_jwt", rsa_key, "RS256", "idp-rs256", "rt+jwt"),
]:
    tok = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": typ})
    assert jwt.get_unverified_header(tok).get("typ") == typ, name
    tokens[name] = tok

out = {
    "generator": "PyJWT %s with cryptography" % jwt.__version__,
    "jwks": {"keys": [rs, ps, es]},
    "private": {"rsa_pkcs8": pkcs8(rsa_key), "p384_pkcs8": pkcs8(ec_key)},
    "claims": claims,
    "tokens": tokens,
    "bad_keys": {
        "rsa_1024": {"kty": "RSA", "alg": "RS256", "kid": "short", "n": b64(i2b(short.n)), "e": b64(i2b(short.e))},
        "rsa_e1": dict(rs, kid="e1", e="AQ"),
        "rsa_even_e": dict(rs, kid="e2", e="AQAA"),
        "rsa_private": dict(rs, kid="priv", d="AQAB"),
    },
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "idp.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
