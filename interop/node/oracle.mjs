// keycard's node oracle: independent JOSE and Token Status List implementations, driven by the
// Rust interop tests (interop/tests/node.rs). One command per call; JSON on stdout.
//
//   node oracle.mjs foreign-tokens ISS AUD            keys and tokens from another issuer (jose)
//   node oracle.mjs read-list JWT JWKS URI IDX...     a status list checked with jose, read with
//                                                     @sd-jwt/jwt-status-list
//   node oracle.mjs make-list ISS URI BITS STATUS...  a status list made with @sd-jwt/jwt-status-list,
//                                                     signed with jose (EdDSA)
//   node oracle.mjs dpop-key ALG                      a DPoP key pair (EdDSA or ES256) and its RFC 7638
//                                                     thumbprint, by jose
//   node oracle.mjs dpop-proof JWK ALG HTM HTU [ath=TOKEN] [nonce=N] [iat=N]
//                                                     a DPoP proof (RFC 9449) signed by jose
import * as jose from 'jose';
import { StatusList, createHeaderAndPayload, getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';

const [cmd, ...args] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);

async function foreignTokens(iss, aud) {
  const out = { jwks: { keys: [] }, tokens: {} };
  // WebCrypto binds a key to its algorithm: one pair per algorithm.
  const rs = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const ps = await jose.generateKeyPair('PS256', { modulusLength: 3072, extractable: true });
  const es = await jose.generateKeyPair('ES384', { extractable: true });
  out.jwks.keys.push({ ...(await jose.exportJWK(rs.publicKey)), alg: 'RS256', kid: 'jose-rs256', use: 'sig' });
  out.jwks.keys.push({ ...(await jose.exportJWK(ps.publicKey)), alg: 'PS256', kid: 'jose-ps256', use: 'sig' });
  out.jwks.keys.push({ ...(await jose.exportJWK(es.publicKey)), alg: 'ES384', kid: 'jose-es384', use: 'sig' });
  for (const [alg, kid, key, typ] of [
    ['RS256', 'jose-rs256', rs.privateKey, 'JWT'],
    ['PS256', 'jose-ps256', ps.privateKey, 'at+jwt'],
    ['ES384', 'jose-es384', es.privateKey, undefined],
  ]) {
    const header = typ ? { alg, kid, typ } : { alg, kid };
    out.tokens[alg] = await new jose.SignJWT({ sub: 'alice' })
      .setProtectedHeader(header)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .setJti(`jti-${alg}-${now}`)
      .sign(key);
  }
  return out;
}

async function readList(jwt, jwks, uri, indices) {
  // The library does not check signatures: jose does, with the issuer's public JWK Set.
  const keys = jose.createLocalJWKSet(JSON.parse(jwks));
  const { payload, protectedHeader } = await jose.jwtVerify(jwt, keys, {
    typ: 'statuslist+jwt',
    subject: uri,
  });
  const list = getListFromStatusListJWT(jwt);
  return {
    typ: protectedHeader.typ,
    ttl: payload.ttl ?? null,
    bits: list.getBitsPerStatus(),
    statuses: indices.map((i) => list.getStatus(Number(i))),
  };
}

async function makeList(iss, uri, bits, statuses) {
  const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), alg: 'EdDSA', kid: 'sdjwt-list', use: 'sig' };
  const list = new StatusList(statuses.map(Number), Number(bits));
  const values = createHeaderAndPayload(
    list,
    { iss, sub: uri, iat: now, exp: now + 600, ttl: 60 },
    { alg: 'EdDSA', kid: 'sdjwt-list' },
  );
  const token = await new jose.SignJWT(values.payload).setProtectedHeader(values.header).sign(privateKey);
  return { jwks: { keys: [jwk] }, token };
}

async function dpopKey(alg) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const pub = await jose.exportJWK(publicKey);
  return {
    private: await jose.exportJWK(privateKey),
    public: pub,
    jkt: await jose.calculateJwkThumbprint(pub, 'sha256'),
  };
}

async function dpopProof(jwk, alg, htm, htu, options) {
  const priv = JSON.parse(jwk);
  const key = await jose.importJWK(priv, alg);
  const { d, ...pub } = priv;
  const opt = Object.fromEntries(options.map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)]));
  const claims = { htm, htu, jti: crypto.randomUUID() };
  if (opt.ath !== undefined) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(opt.ath));
    claims.ath = jose.base64url.encode(new Uint8Array(digest));
  }
  if (opt.nonce !== undefined) claims.nonce = opt.nonce;
  const proof = await new jose.SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: pub })
    .setIssuedAt(opt.iat !== undefined ? Number(opt.iat) : now)
    .sign(key);
  return { proof };
}

let result;
switch (cmd) {
  case 'foreign-tokens':
    result = await foreignTokens(args[0], args[1]);
    break;
  case 'read-list':
    result = await readList(args[0], args[1], args[2], args.slice(3));
    break;
  case 'make-list':
    result = await makeList(args[0], args[1], args[2], args.slice(3));
    break;
  case 'dpop-key':
    result = await dpopKey(args[0]);
    break;
  case 'dpop-proof':
    result = await dpopProof(args[0], args[1], args[2], args[3], args.slice(4));
    break;
  default:
    console.error(`unknown command ${cmd}`);
    process.exit(2);
}
process.stdout.write(JSON.stringify(result));
