"""keycard <-> PyJWT interop helper, driven by tests/it/interop_python.rs.

  verify JWK TOKEN   verify TOKEN with the public (or oct) JWK, audience "api", issuer
                     "https://auth.test"; print {"header": ..., "claims": ...} as JSON
  mint JWK CLAIMS    sign the CLAIMS JSON with the private JWK, header kid + typ "at+jwt";
                     print the token
  accepts JWKS TOKEN try TOKEN as an access token (audience "api", issuer "https://auth.test")
                     with every key of the JWK Set (public keys, and oct keys a gateway might
                     share); print {"accepted": [kid, ...], "errors": [message, ...]}
"""
import json
import sys

import jwt
from jwt import PyJWK


def main():
    cmd, jwk_text, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "accepts":
        accepted, errors = [], []
        for jwk in json.loads(jwk_text)["keys"]:
            try:
                jwt.decode(
                    arg,
                    PyJWK(jwk).key,
                    algorithms=[jwk["alg"]],
                    audience="api",
                    issuer="https://auth.test",
                )
                accepted.append(jwk["kid"])
            except jwt.PyJWTError as e:
                errors.append(type(e).__name__)
        print(json.dumps({"accepted": accepted, "errors": errors}))
        return
    jwk = json.loads(jwk_text)
    key = PyJWK(jwk)
    if cmd == "verify":
        claims = jwt.decode(
            arg,
            key.key,
            algorithms=[jwk["alg"]],
            audience="api",
            issuer="https://auth.test",
            options={"require": ["exp", "iat", "nbf", "sub", "jti"]},
        )
        header = jwt.get_unverified_header(arg)
        print(json.dumps({"header": header, "claims": claims}))
    elif cmd == "mint":
        token = jwt.encode(
            json.loads(arg),
            key.key,
            algorithm=jwk["alg"],
            headers={"kid": jwk["kid"], "typ": "at+jwt"},
        )
        print(token)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
