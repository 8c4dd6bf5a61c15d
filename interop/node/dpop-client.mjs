// A DPoP client (RFC 9449) of the demo service, on node's `jose`: what a mobile app or a single-page
// app does to hold a sender-constrained session. e2e/tests/http/dpop.rs runs it against the demo;
// README.md ("Sender-constrained tokens") shows it.
//
//   node dpop-client.mjs BASE       logs in as alice, calls /me, refreshes, calls /me again;
//                                   prints one JSON line per step
import * as jose from 'jose';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';

// The key never leaves the client (in a browser: WebCrypto, extractable: false).
const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
const jwk = await jose.exportJWK(publicKey);
let nonce; // the server's DPoP-Nonce, when it asks for one

async function proof(method, url, accessToken) {
  const claims = { htm: method, htu: url, jti: crypto.randomUUID() };
  if (accessToken) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
    claims.ath = jose.base64url.encode(new Uint8Array(digest));
  }
  if (nonce) claims.nonce = nonce;
  return new jose.SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .setIssuedAt()
    .sign(privateKey);
}

// One request with a fresh proof; once more with the server's nonce if it asks for one.
async function send(method, path, { body, accessToken } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { DPoP: await proof(method, base + path, accessToken) };
    if (body) headers['content-type'] = 'application/json';
    if (accessToken) headers.authorization = `DPoP ${accessToken}`;
    const r = await fetch(base + path, { method, headers, body: body && JSON.stringify(body) });
    nonce = r.headers.get('dpop-nonce') ?? nonce;
    const json = await r.json().catch(() => null);
    const retry = json?.error === 'use_dpop_nonce'
      || (r.headers.get('www-authenticate') ?? '').includes('use_dpop_nonce');
    if (retry && attempt === 0) continue;
    return { status: r.status, json };
  }
}

const login = await send('POST', '/login', { body: { username: 'alice', password: 'alice-password' } });
console.log(JSON.stringify({ step: 'login', status: login.status, token_type: login.json?.token_type }));
const me = await send('GET', '/me', { accessToken: login.json.access_token });
console.log(JSON.stringify({ step: 'me', status: me.status, sub: me.json?.sub }));
const next = await send('POST', '/refresh', { body: { refresh_token: login.json.refresh_token } });
console.log(JSON.stringify({ step: 'refresh', status: next.status, token_type: next.json?.token_type }));
const again = await send('GET', '/me', { accessToken: next.json.access_token });
console.log(JSON.stringify({ step: 'me', status: again.status, sub: again.json?.sub }));
