"""PyJWT side of the CLI interop test (tests/cli.rs).

  verify-jwks JWKS_FILE TOKEN     verify TOKEN against the JWK Set printed by `keycard jwks`
                                  (key chosen by kid); print the claims as JSON
  keygen-mint JWK_OUT KID         make an Ed25519 key, write its public JWK (alg EdDSA) to JWK_OUT,
                                  print an at+jwt access token signed with it
"""
import json
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm


def verify_jwks(path, token):
    with open(path) as f:
        jwks = jwt.PyJWKSet.from_dict(json.load(f))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=[key.algorithm_name],
        audience="api",
        issuer="https://auth.test",
        options={"require": ["exp", "iat", "sub", "jti"]},
    )
    print(json.dumps(claims))


def keygen_mint(out, kid):
    private = Ed25519PrivateKey.generate()
    public_jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    public_jwk.update({"alg": "EdDSA", "kid": kid, "use": "sig"})
    with open(out, "w") as f:
        json.dump(public_jwk, f)
    now = int(time.time())
    claims = {
        "iss": "https://auth.test",
        "sub": "from-python",
        "aud": "api",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    print(jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"}))


if __name__ == "__main__":
    {"verify-jwks": verify_jwks, "keygen-mint": keygen_mint}[sys.argv[1]](*sys.argv[2:])
