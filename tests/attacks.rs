//! The known-attack catalogue: every case is an attack token, the exact error kind it must get,
//! and a positive control — the same token done right — that must verify, so a verifier that
//! rejects everything fails this suite.
//!
//! `cargo test --test attacks -- --ignored write_attack_seeds` copies every attack token into
//! the fuzz seed corpus (`fuzz/corpus/verify/seed-attack-*`).

#[path = "common/mod.rs"]
mod common;
#[path = "common/dpop.rs"]
mod dpop;
#[path = "common/idp.rs"]
mod idp;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use dpop::DpopClient;
use keycard::revocation::RevocationList;
use keycard::{Algorithm, Format, Key, Kid, NoCustomClaims, Verifier};
use serde_json::{Value, json};

/// What the case presents the token as.
#[derive(Clone, Copy, Debug, PartialEq)]
enum As {
    Access,
    Refresh,
}

struct Case {
    name: &'static str,
    expect: &'static str,
    attack: String,
    control: String,
    verifier: Verifier,
    present_as: As,
}

struct World {
    f: Fixture,
    eddsa: Arc<Key>,
    es256: Arc<Key>,
    hs256: Arc<Key>,
    public: Arc<Key>,
    local: Arc<Key>,
    list: Arc<RevocationList>,
    verifier: Verifier,
}

fn world() -> World {
    let f = fixture();
    let es = f.keys.rotate(Algorithm::ES256).unwrap();
    let hs = f.keys.rotate(Algorithm::HS256).unwrap();
    let ed = f.keys.rotate(Algorithm::EdDSA).unwrap();
    let list = Arc::new(RevocationList::new().with_clock(Arc::new(f.clock.clone())));
    let verifier = f.verifier.clone().with_revocations(list.clone());
    World {
        eddsa: f.keys.get(ed.as_str()).unwrap(),
        es256: f.keys.get(es.as_str()).unwrap(),
        hs256: f.keys.get(hs.as_str()).unwrap(),
        public: f.keys.active(Format::V4Public).unwrap(),
        local: f.keys.active(Format::V4Local).unwrap(),
        list,
        verifier,
        f,
    }
}

fn header(key: &Key) -> Value {
    access_header(key)
}

fn with(mut v: Value, member: &str, value: Value) -> Value {
    v[member] = value;
    v
}

fn without(mut v: Value, member: &str) -> Value {
    v.as_object_mut().unwrap().remove(member);
    v
}

/// A JWT whose signature segment is replaced.
fn resign(token: &str, sig: &str) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{sig}")
}

/// The JWS signing input of header and claims, HMAC'd with arbitrary secret bytes.
fn hs256_with_secret(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let sig = ring::hmac::sign(&k, input.as_bytes());
    format!("{input}.{}", b64(sig.as_ref()))
}

fn cases(w: &World) -> Vec<Case> {
    let v = w.verifier.clone();
    let good = good_claims();
    let ed = &*w.eddsa;
    let ok = jwt(ed, &header(ed), &good);
    let pgood = good_paseto_claims().to_string();
    let public_ok = paseto_public(&w.public, pgood.as_bytes(), &access_footer(&w.public), b"");
    let local_ok = paseto_local(&w.local, pgood.as_bytes(), &access_footer(&w.local), b"");
    let mut out = Vec::new();
    let mut add = |name, expect, attack: String, control: String| {
        out.push(Case {
            name,
            expect,
            attack,
            control,
            verifier: v.clone(),
            present_as: As::Access,
        })
    };

    // alg: none, in every capitalisation, with and without a signature.
    for (i, alg) in ["none", "None", "NONE", "nOnE"].into_iter().enumerate() {
        let h = with(header(ed), "alg", json!(alg));
        let unsigned = format!(
            "{}.{}.",
            b64(h.to_string().as_bytes()),
            b64(good.to_string().as_bytes())
        );
        let name = ["alg none", "alg None", "alg NONE", "alg nOnE"][i];
        add(name, "algorithm_mismatch", unsigned, ok.clone());
    }
    let h = with(header(ed), "alg", json!("none"));
    add(
        "alg none with a signature",
        "algorithm_mismatch",
        jwt(ed, &h, &good),
        ok.clone(),
    );
    let h = with(header(ed), "alg", json!("none"));
    let stripped = jwt(ed, &h, &good);
    add(
        "alg none, signature stripped to empty",
        "algorithm_mismatch",
        resign(&stripped, ""),
        ok.clone(),
    );

    // Algorithm confusion: HS256 "signed" with a public key as the HMAC secret.
    let hs_ed = with(header(ed), "alg", json!("HS256"));
    add(
        "HS256 with the Ed25519 public key as secret",
        "algorithm_mismatch",
        hs256_with_secret(&hs_ed, &good, ed.public_key_bytes().unwrap()),
        ok.clone(),
    );
    add(
        "HS256 with the Ed25519 public JWK text as secret",
        "algorithm_mismatch",
        hs256_with_secret(&hs_ed, &good, ed.to_public_jwk().unwrap().as_bytes()),
        ok.clone(),
    );
    let es = &*w.es256;
    let es_ok = jwt(es, &header(es), &good);
    let hs_es = with(header(es), "alg", json!("HS256"));
    add(
        "HS256 with the P-256 public key as secret",
        "algorithm_mismatch",
        hs256_with_secret(&hs_es, &good, es.public_key_bytes().unwrap()),
        es_ok.clone(),
    );
    add(
        "ES256 claimed for an EdDSA key",
        "algorithm_mismatch",
        jwt(ed, &with(header(ed), "alg", json!("ES256")), &good),
        ok.clone(),
    );
    let hs = &*w.hs256;
    let hs_ok = jwt(hs, &header(hs), &good);
    add(
        "EdDSA claimed for an HS256 key",
        "algorithm_mismatch",
        jwt(hs, &with(header(hs), "alg", json!("EdDSA")), &good),
        hs_ok.clone(),
    );
    add(
        "JWT naming a v4.public key",
        "algorithm_mismatch",
        jwt(
            ed,
            &with(header(ed), "kid", json!(w.public.kid().as_str())),
            &good,
        ),
        ok.clone(),
    );

    // kid: only ever a lookup key.
    add(
        "unknown kid",
        "unknown_key",
        jwt(ed, &with(header(ed), "kid", json!("no-such-key")), &good),
        ok.clone(),
    );
    add(
        "path-like kid",
        "unknown_key",
        jwt(
            ed,
            &with(header(ed), "kid", json!("../../../../etc/passwd")),
            &good,
        ),
        ok.clone(),
    );
    add(
        "URL kid",
        "unknown_key",
        jwt(
            ed,
            &with(header(ed), "kid", json!("https://evil.example/key.json")),
            &good,
        ),
        ok.clone(),
    );
    add(
        "escaped path kid",
        "unknown_key",
        jwt_raw(
            ed,
            br#"{"alg":"EdDSA","kid":"\u002e\u002e\u002fkeys","typ":"at+jwt"}"#,
            good.to_string().as_bytes(),
        ),
        ok.clone(),
    );
    add(
        "huge kid (600 bytes)",
        "unknown_key",
        jwt(ed, &with(header(ed), "kid", json!("k".repeat(600))), &good),
        ok.clone(),
    );
    add(
        "huge kid (10 KB)",
        "token_too_large",
        jwt(
            ed,
            &with(header(ed), "kid", json!("k".repeat(10_000))),
            &good,
        ),
        ok.clone(),
    );
    add(
        "missing kid",
        "unknown_key",
        jwt(ed, &without(header(ed), "kid"), &good),
        ok.clone(),
    );

    // Headers that would make a verifier fetch, trust an embedded key, or change semantics.
    let forbidden = [
        ("jku header", "jku", json!("https://evil.example/jwks.json")),
        ("x5u header", "x5u", json!("https://evil.example/cert.pem")),
        (
            "jwk header (embedded key)",
            "jwk",
            serde_json::from_str::<Value>(&ed.to_public_jwk().unwrap()).unwrap(),
        ),
        ("x5c header", "x5c", json!(["MIIB"])),
        ("crit header", "crit", json!(["exp"])),
        ("b64 header (unencoded payload)", "b64", json!(false)),
    ];
    for (name, member, value) in forbidden {
        add(
            name,
            "malformed",
            jwt(ed, &with(header(ed), member, value), &good),
            ok.clone(),
        );
    }

    // exp, nbf, iat.
    let signed = |claims: &Value| jwt(ed, &header(ed), claims);
    add(
        "missing exp",
        "missing_claim",
        signed(&without(good.clone(), "exp")),
        ok.clone(),
    );
    add(
        "expired",
        "expired",
        signed(&with(good.clone(), "exp", json!(T0 - 61))),
        ok.clone(),
    );
    add(
        "exp as a string",
        "malformed",
        signed(&with(good.clone(), "exp", json!((T0 + 300).to_string()))),
        ok.clone(),
    );
    add(
        "exp as a float",
        "malformed",
        signed(&with(good.clone(), "exp", json!((T0 + 300) as f64 + 0.5))),
        ok.clone(),
    );
    add(
        "exp 1e308",
        "malformed",
        jwt_raw(
            ed,
            header(ed).to_string().as_bytes(),
            good.to_string()
                .replace(&format!("\"exp\":{}", T0 + 300), "\"exp\":1e308")
                .as_bytes(),
        ),
        ok.clone(),
    );
    add(
        "exp past year 9999",
        "malformed",
        signed(&with(good.clone(), "exp", json!(253_402_300_800_i64))),
        ok.clone(),
    );
    add(
        "negative exp",
        "malformed",
        signed(&with(good.clone(), "exp", json!(-1))),
        ok.clone(),
    );
    add(
        "nbf in the future",
        "not_yet_valid",
        signed(&with(good.clone(), "nbf", json!(T0 + 3600))),
        ok.clone(),
    );
    add(
        "iat in the future",
        "issued_in_future",
        signed(&with(good.clone(), "iat", json!(T0 + 3600))),
        ok.clone(),
    );

    // iss, aud, type.
    add(
        "wrong iss",
        "wrong_issuer",
        signed(&with(good.clone(), "iss", json!("https://evil.example"))),
        ok.clone(),
    );
    add(
        "iss extended by a suffix",
        "wrong_issuer",
        signed(&with(
            good.clone(),
            "iss",
            json!("https://auth.test.evil.example"),
        )),
        ok.clone(),
    );
    add(
        "wrong aud",
        "wrong_audience",
        signed(&with(good.clone(), "aud", json!("admin"))),
        ok.clone(),
    );
    add(
        "aud as a substring",
        "wrong_audience",
        signed(&with(good.clone(), "aud", json!(["ap", "apis"]))),
        ok.clone(),
    );
    add(
        "typ JWT instead of at+jwt",
        "wrong_token_type",
        jwt(ed, &with(header(ed), "typ", json!("JWT")), &good),
        ok.clone(),
    );
    add(
        "refresh token as access token",
        "wrong_token_type",
        jwt(ed, &with(header(ed), "typ", json!("rt+jwt")), &good),
        ok.clone(),
    );
    add(
        "sub as a number",
        "malformed",
        signed(&with(good.clone(), "sub", json!(42))),
        ok.clone(),
    );

    // Strict parsing.
    let (h64, rest) = ok.split_once('.').unwrap();
    let (p64, s64) = rest.split_once('.').unwrap();
    add(
        "truncated: two segments",
        "malformed",
        format!("{h64}.{p64}"),
        ok.clone(),
    );
    add(
        "extra segment",
        "malformed",
        format!("{ok}.{s64}"),
        ok.clone(),
    );
    add(
        "JWE: five segments",
        "unsupported_format",
        format!("{h64}.{p64}.{s64}.{p64}.{s64}"),
        ok.clone(),
    );
    add(
        "padded base64",
        "malformed",
        format!("{h64}=.{p64}.{s64}"),
        ok.clone(),
    );
    add(
        "standard-alphabet base64",
        "malformed",
        format!(
            "{h64}.{p64}.{}",
            s64.replace('_', "/").replace('-', "+") + "+"
        ),
        ok.clone(),
    );
    add(
        "whitespace inside",
        "malformed",
        format!("{h64}. {p64}.{s64}"),
        ok.clone(),
    );
    add(
        "non-canonical trailing bits",
        "malformed",
        {
            // The header's last character carries unused low bits; set one of them.
            let mut h = h64.to_owned();
            let last = h.pop().unwrap();
            let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let pos = alphabet.find(last).unwrap();
            h.push(alphabet.as_bytes()[pos | 1] as char);
            format!("{h}.{p64}.{s64}")
        },
        ok.clone(),
    );
    add(
        "invalid UTF-8 in the claims",
        "malformed",
        jwt_raw(
            ed,
            header(ed).to_string().as_bytes(),
            b"{\"sub\":\"\xff\xfe\"}",
        ),
        ok.clone(),
    );
    add(
        "duplicate header members",
        "malformed",
        jwt_raw(
            ed,
            format!(
                r#"{{"alg":"EdDSA","kid":"{}","typ":"at+jwt","alg":"none"}}"#,
                ed.kid()
            )
            .as_bytes(),
            good.to_string().as_bytes(),
        ),
        ok.clone(),
    );
    add(
        "duplicate claims (second exp)",
        "malformed",
        jwt_raw(
            ed,
            header(ed).to_string().as_bytes(),
            good.to_string()
                .replacen('{', &format!("{{\"exp\":{},", T0 - 10_000), 1)
                .as_bytes(),
        ),
        ok.clone(),
    );
    add(
        "deeply nested claims",
        "malformed",
        signed(&with(
            good.clone(),
            "x",
            serde_json::from_str(&format!("{}1{}", "[".repeat(40), "]".repeat(40))).unwrap(),
        )),
        ok.clone(),
    );
    add(
        "far over the size limit",
        "token_too_large",
        signed(&with(good.clone(), "pad", json!("x".repeat(20_000)))),
        ok.clone(),
    );

    // Signatures.
    let zero_sig = b64(&[0u8; 64]);
    add(
        "ECDSA r = s = 0 (CVE-2022-21449)",
        "bad_signature",
        resign(&es_ok, &zero_sig),
        es_ok.clone(),
    );
    add(
        "empty signature",
        "bad_signature",
        resign(&ok, ""),
        ok.clone(),
    );
    add(
        "signature of the wrong length",
        "bad_signature",
        resign(&ok, &b64(&[7u8; 63])),
        ok.clone(),
    );
    let impostor = Key::generate_with_kid(Algorithm::EdDSA, ed.kid().clone()).unwrap();
    add(
        "signed by another key under the same kid",
        "bad_signature",
        jwt(&impostor, &header(ed), &good),
        ok.clone(),
    );
    add(
        "claims swapped under a valid signature",
        "bad_signature",
        {
            let other = signed(&with(good.clone(), "sub", json!("mallory")));
            let (_, other_rest) = other.split_once('.').unwrap();
            let (other_p, _) = other_rest.split_once('.').unwrap();
            format!("{h64}.{other_p}.{s64}")
        },
        ok.clone(),
    );

    // PASETO.
    let only_public = v.clone().with_formats(&[Format::V4Public]);
    let only_local = v.clone().with_formats(&[Format::V4Local]);
    out.push(Case {
        name: "v4.local where v4.public is expected",
        expect: "unsupported_format",
        attack: local_ok.clone(),
        control: public_ok.clone(),
        verifier: only_public.clone(),
        present_as: As::Access,
    });
    out.push(Case {
        name: "v4.public where v4.local is expected",
        expect: "unsupported_format",
        attack: public_ok.clone(),
        control: local_ok.clone(),
        verifier: only_local,
        present_as: As::Access,
    });
    out.push(Case {
        name: "JWT where v4.public is expected",
        expect: "unsupported_format",
        attack: ok.clone(),
        control: public_ok.clone(),
        verifier: only_public,
        present_as: As::Access,
    });
    let mut add = |name, expect, attack: String, control: String| {
        out.push(Case {
            name,
            expect,
            attack,
            control,
            verifier: v.clone(),
            present_as: As::Access,
        })
    };
    add(
        "PASETO v2.local",
        "unsupported_format",
        format!("v2.local.{}", &public_ok["v4.public.".len()..]),
        public_ok.clone(),
    );
    add(
        "PASETO v3.public",
        "unsupported_format",
        format!("v3.public.{}", &public_ok["v4.public.".len()..]),
        public_ok.clone(),
    );
    let other_public = Key::generate(Algorithm::V4Public).unwrap();
    add(
        "footer kid names a different key",
        "bad_signature",
        paseto_public(
            &other_public,
            pgood.as_bytes(),
            &access_footer(&w.public),
            b"",
        ),
        public_ok.clone(),
    );
    add(
        "footer kid of a v4.local key on a v4.public token",
        "algorithm_mismatch",
        paseto_public(&w.public, pgood.as_bytes(), &access_footer(&w.local), b""),
        public_ok.clone(),
    );
    add(
        "v4.public without a footer",
        "unknown_key",
        paseto_public(&w.public, pgood.as_bytes(), b"", b""),
        public_ok.clone(),
    );
    add(
        "v4.public payload altered",
        "bad_signature",
        {
            let (body, footer) = public_ok["v4.public.".len()..].split_once('.').unwrap();
            let mut raw = unb64(body);
            raw[10] ^= 1;
            format!("v4.public.{}.{footer}", b64(&raw))
        },
        public_ok.clone(),
    );
    add(
        "v4.local ciphertext altered",
        "bad_signature",
        {
            let (body, footer) = local_ok["v4.local.".len()..].split_once('.').unwrap();
            let mut raw = unb64(body);
            raw[40] ^= 1;
            format!("v4.local.{}.{footer}", b64(&raw))
        },
        local_ok.clone(),
    );
    add(
        "PASETO time claim as an integer",
        "malformed",
        {
            let c = with(good_paseto_claims(), "exp", json!(T0 + 300)).to_string();
            paseto_public(&w.public, c.as_bytes(), &access_footer(&w.public), b"")
        },
        public_ok.clone(),
    );
    add(
        "PASETO refresh token as access token",
        "wrong_token_type",
        {
            let footer = json!({"kid": w.public.kid().as_str(), "typ": "rt"}).to_string();
            paseto_public(
                &w.public,
                pgood.as_bytes(),
                footer.as_bytes(),
                b"keycard:refresh-token:v1",
            )
        },
        public_ok.clone(),
    );

    // Keys and state.
    let old = Key::generate(Algorithm::EdDSA).unwrap();
    let old_kid: Kid = old.kid().clone();
    w.f.keys.add_verify_only(old).unwrap();
    let retired = w.f.issuer.access("alice").kid(&old_kid).mint().unwrap();
    add(
        "signed by a retired key",
        "unknown_key",
        retired.as_str().to_owned(),
        w.f.issuer.access("alice").mint().unwrap().into_string(),
    );
    let revoked = w.f.issuer.access("alice").mint().unwrap();
    add(
        "revoked token",
        "revoked",
        revoked.as_str().to_owned(),
        w.f.issuer.access("alice").mint().unwrap().into_string(),
    );
    let session = keycard::SessionId::new("revoked-session").unwrap();
    add(
        "token of a revoked session",
        "revoked",
        w.f.issuer
            .access("alice")
            .session(session.clone())
            .mint()
            .unwrap()
            .into_string(),
        w.f.issuer.access("alice").mint().unwrap().into_string(),
    );

    // An access token presented as a refresh token.
    out.push(Case {
        name: "access token as refresh token",
        expect: "wrong_token_type",
        attack: ok.clone(),
        control: w.f.issuer.refresh("alice").mint().unwrap().into_string(),
        verifier: v.clone(),
        present_as: As::Refresh,
    });

    // A refresh-typed JWT signed with an access-token key (what gateways can verify) is not a
    // refresh token: only the never-published refresh-token key seals those.
    let mut rt_header = access_header(&w.eddsa);
    rt_header["typ"] = "rt+jwt".into();
    out.push(Case {
        name: "refresh-typed JWT signed with an access key, as refresh token",
        expect: "wrong_token_type",
        attack: jwt(&w.eddsa, &rt_header, &good_claims()),
        control: w.f.issuer.refresh("alice").mint().unwrap().into_string(),
        verifier: v.clone(),
        present_as: As::Refresh,
    });
    out.push(Case {
        name: "sealed refresh token as access token",
        expect: "wrong_token_type",
        attack: w.f.issuer.refresh("alice").mint().unwrap().into_string(),
        control: ok.clone(),
        verifier: v.clone(),
        present_as: As::Access,
    });

    // State changes the stateful cases depend on, applied once all tokens exist.
    w.list
        .revoke_token(revoked.token_id(), revoked.expires_at())
        .unwrap();
    w.list
        .revoke_session(&session, keycard::Timestamp::from_unix(T0 + 3600).unwrap())
        .unwrap();
    w.f.keys.retire(&old_kid).unwrap();
    out
}

/// Another issuer's RSA and P-384 keys beside keycard's own: algorithm swaps between RS, PS, ES
/// and HS, a bare `alg: none`, and refresh-token `typ`s under a foreign key.
fn foreign_cases(w: &World) -> Vec<Case> {
    w.f.keys.add_foreign_jwk_set(&idp::jwks()).unwrap();
    let good = good_claims();
    let rs = idp::header("RS256");
    let ok = idp::sign("RS256", &rs, &good);
    let es_ok = idp::sign("ES384", &idp::header("ES384"), &good);
    let mut out = Vec::new();
    let mut add = |name, expect, attack: String, control: &String| {
        out.push(Case {
            name,
            expect,
            attack,
            control: control.clone(),
            verifier: w.verifier.clone(),
            present_as: As::Access,
        })
    };
    add(
        "RS256 key, token labelled PS256 (PSS signature)",
        "algorithm_mismatch",
        idp::sign("PS256", &with(rs.clone(), "alg", json!("PS256")), &good),
        &ok,
    );
    add(
        "PS256 key, token labelled RS256 (PKCS#1 signature)",
        "algorithm_mismatch",
        idp::sign("RS256", &json!({"alg": "RS256", "kid": "idp-ps256"}), &good),
        &ok,
    );
    let h = with(rs.clone(), "alg", json!("HS256"));
    let input = format!(
        "{}.{}",
        b64(h.to_string().as_bytes()),
        b64(good.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &idp::rsa_modulus());
    let tag = ring::hmac::sign(&key, input.as_bytes());
    add(
        "RS256 key, HS256 with the modulus as the secret",
        "algorithm_mismatch",
        format!("{input}.{}", b64(tag.as_ref())),
        &ok,
    );
    add(
        "RS256 key, alg none",
        "algorithm_mismatch",
        format!(
            "{}.{}.",
            b64(with(rs.clone(), "alg", json!("none"))
                .to_string()
                .as_bytes()),
            b64(good.to_string().as_bytes())
        ),
        &ok,
    );
    add(
        "ES384 key, token labelled ES256",
        "algorithm_mismatch",
        idp::sign("ES384", &json!({"alg": "ES256", "kid": "idp-es384"}), &good),
        &es_ok,
    );
    add(
        "RS256 key, typ rt+jwt",
        "wrong_token_type",
        idp::sign("RS256", &with(rs.clone(), "typ", json!("rt+jwt")), &good),
        &ok,
    );
    add(
        "RS256 key, claims changed after signing",
        "bad_signature",
        {
            let mut parts: Vec<String> = ok.split('.').map(str::to_owned).collect();
            parts[1] = b64(with(good.clone(), "sub", json!("mallory"))
                .to_string()
                .as_bytes());
            parts.join(".")
        },
        &ok,
    );
    out
}

fn outcome(case: &Case, token: &str) -> Result<(), &'static str> {
    let r = match case.present_as {
        As::Access => case
            .verifier
            .verify_access::<NoCustomClaims>(token)
            .map(|_| ()),
        As::Refresh => case
            .verifier
            .verify_refresh::<NoCustomClaims>(token)
            .map(|_| ()),
    };
    r.map_err(|e| e.kind())
}

#[test]
fn known_attacks_fail_with_the_exact_kind_and_controls_pass() {
    let w = world();
    let mut cases = cases(&w);
    cases.extend(foreign_cases(&w));
    assert!(cases.len() >= 47, "only {} cases", cases.len());
    judge(cases.iter().map(|case| {
        let attack = outcome(case, &case.attack);
        (case.name, case.expect, attack, outcome(case, &case.control))
    }));
}

/// Fails listing every case whose attack did not fail with its kind or whose control failed.
fn judge<'a>(
    results: impl Iterator<
        Item = (
            &'a str,
            &'a str,
            Result<(), &'static str>,
            Result<(), &'static str>,
        ),
    >,
) {
    let failures: Vec<String> = results
        .filter(|(_, expect, attack, control)| *attack != Err(*expect) || control.is_err())
        .map(|(name, expect, attack, control)| {
            format!("{name}: attack -> {attack:?} (want {expect}), control -> {control:?}")
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn replayed_refresh_token_is_caught() {
    // The one attack that needs the session layer: covered in depth by tests/it/sessions.rs.
    let f = fixture();
    let kc = keycard::Keycard::builder(f.keys.clone()).build().unwrap();
    let p = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    let control = kc.refresh(p.refresh.as_str(), None).unwrap();
    assert!(kc.verify::<NoCustomClaims>(control.access.as_str()).is_ok());
    f.clock.advance(Duration::from_secs(11));
    assert_eq!(
        kc.refresh(p.refresh.as_str(), None).unwrap_err().kind(),
        "refresh_reuse_detected"
    );
    // Positive control: the rotated session worked until the replay; a new login works after.
    assert_eq!(
        kc.verify::<NoCustomClaims>(control.access.as_str())
            .unwrap_err()
            .kind(),
        "revoked"
    );
    let fresh = kc.login("alice", &NoCustomClaims {}, None).unwrap();
    assert!(kc.refresh(fresh.refresh.as_str(), None).is_ok());
}

#[test]
#[ignore = "writes fuzz seeds; run by hand"]
fn write_attack_seeds() {
    let w = world();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/verify");
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = cases(&w);
    all.extend(foreign_cases(&w));
    for case in all {
        let name: String = case
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let path = dir.join(format!("seed-attack-{name}"));
        if !path.exists() && case.attack.len() < 12_000 {
            std::fs::write(path, case.attack.as_bytes()).unwrap();
        }
    }
    write_dpop_seeds();
}

/// The `dpop` target's seeds: good proofs (both algorithms) for its request, and every DPoP
/// attack proof.
fn write_dpop_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/dpop");
    std::fs::create_dir_all(&dir).unwrap();
    let (method, url, token) = keycard::fuzzing::DPOP_REQUEST;
    let mut seeds = Vec::new();
    for alg in [Algorithm::EdDSA, Algorithm::ES256] {
        let c = DpopClient::new(alg);
        seeds.push((
            format!("valid-{}", alg.name().to_ascii_lowercase()),
            c.proof(method, url, keycard::fuzzing::NOW, Some(token)),
        ));
    }
    let w = dpop_world();
    for case in dpop_cases(&w) {
        if let Present::Dpop { proof, .. } = case.attack {
            let name: String = case
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            seeds.push((format!("attack-{name}"), proof));
        }
    }
    for (name, proof) in seeds {
        let path = dir.join(format!("seed-{name}"));
        if !path.exists() {
            std::fs::write(path, proof.as_bytes()).unwrap();
        }
    }
}

#[test]
fn ecdsa_twins_are_one_token_to_revocation() {
    // ES256 signatures are malleable: (r, n - s) verifies too. keycard signs low-s, and accepts
    // high-s signatures other libraries produce, so a token's string is not unique: everything
    // that identifies a token (revocation, replay) goes by its `jti`, which the twin shares.
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let w = world();
    let kid = w.es256.kid().clone();
    let token = w.f.issuer.access("alice").kid(&kid).mint().unwrap();
    let (input, sig) = token.as_str().rsplit_once('.').unwrap();
    let sig = unb64(sig);
    assert!(sig[32] < 0x80, "keycard signs low-s");
    let mut twin_sig = sig.clone();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        twin_sig[32 + i] = d as u8;
    }
    let twin = format!("{input}.{}", b64(&twin_sig));
    assert_ne!(twin, token.as_str());
    let a = w
        .verifier
        .verify_access::<NoCustomClaims>(token.as_str())
        .unwrap();
    let b = w.verifier.verify_access::<NoCustomClaims>(&twin).unwrap();
    assert_eq!(a.token_id(), b.token_id());
    w.list
        .revoke_token(a.token_id(), token.expires_at())
        .unwrap();
    for t in [token.as_str(), twin.as_str()] {
        assert_eq!(
            w.verifier
                .verify_access::<NoCustomClaims>(t)
                .unwrap_err()
                .kind(),
            "revoked"
        );
    }
}

// --- DPoP (RFC 9449): sender-constrained tokens -------------------------------------------------

const API: &str = "https://api.test/orders";

/// How a DPoP case presents its token.
enum Present {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: DPoP <token>` with `DPoP: <proof>`, for `method url`.
    Dpop {
        token: String,
        proof: String,
        method: &'static str,
    },
}

struct DpopCase {
    name: &'static str,
    expect: &'static str,
    attack: Present,
    control: Present,
}

struct DpopWorld {
    kc: keycard::Keycard,
    client: DpopClient,
    /// A session bound to `client`'s key.
    bound: String,
    /// A bearer session's access token.
    bearer: String,
}

fn dpop_world() -> DpopWorld {
    let f = fixture();
    let kc = keycard::Keycard::builder(f.keys.clone())
        .clock(Arc::new(f.clock.clone()))
        .build()
        .unwrap();
    let client = DpopClient::new(Algorithm::EdDSA);
    let login = client.proof("POST", "https://api.test/login", T0, None);
    let request = keycard::dpop::ProofRequest {
        method: "POST",
        url: "https://api.test/login",
        access_token: None,
    };
    let proof = kc.check_dpop(&login, &request).unwrap();
    assert_eq!(proof.jkt, client.thumbprint(), "RFC 7638, computed by hand");
    let pair = kc
        .login_dpop("alice", &NoCustomClaims {}, None, Some(proof.jkt))
        .unwrap();
    let bearer = kc.login("bob", &NoCustomClaims {}, None).unwrap();
    DpopWorld {
        bound: pair.access.as_str().to_owned(),
        bearer: bearer.access.as_str().to_owned(),
        kc,
        client,
    }
}

fn dpop_cases(w: &DpopWorld) -> Vec<DpopCase> {
    let c = &w.client;
    let t = w.bound.as_str();
    let good = |iat: i64| c.proof("GET", API, iat, Some(t));
    let dpop = |proof: String| Present::Dpop {
        token: t.to_owned(),
        proof,
        method: "GET",
    };
    let mut out = Vec::new();
    let mut case = |name, expect, attack, control| {
        out.push(DpopCase {
            name,
            expect,
            attack,
            control,
        })
    };
    case(
        "bound token sent as Bearer",
        "invalid_dpop_proof",
        Present::Bearer(t.to_owned()),
        dpop(good(T0)),
    );
    case(
        "bearer token sent under the DPoP scheme",
        "invalid_dpop_proof",
        Present::Dpop {
            token: w.bearer.clone(),
            proof: c.proof("GET", API, T0, Some(&w.bearer)),
            method: "GET",
        },
        Present::Bearer(w.bearer.clone()),
    );
    let replayed = good(T0);
    w.kc.verify_dpop::<NoCustomClaims>(t, &replayed, "GET", API)
        .expect("first use of the replayed proof");
    case(
        "replayed proof",
        "invalid_dpop_proof",
        dpop(replayed),
        dpop(good(T0)),
    );
    case(
        "wrong htm",
        "invalid_dpop_proof",
        dpop(c.proof("POST", API, T0, Some(t))),
        dpop(good(T0)),
    );
    case(
        "wrong htu path",
        "invalid_dpop_proof",
        dpop(c.proof("GET", "https://api.test/admin", T0, Some(t))),
        // The query and fragment are not part of htu; scheme and host compare case-blind.
        dpop(c.proof("GET", "HTTPS://API.test/orders?page=2#top", T0, Some(t))),
    );
    case(
        "wrong htu host",
        "invalid_dpop_proof",
        dpop(c.proof("GET", "https://evil.test/orders", T0, Some(t))),
        dpop(c.proof("GET", "https://api.test:443/orders", T0, Some(t))),
    );
    case(
        "stale iat",
        "invalid_dpop_proof",
        dpop(good(T0 - 61)),
        dpop(good(T0 - 59)),
    );
    case(
        "future iat",
        "invalid_dpop_proof",
        dpop(good(T0 + 6)),
        dpop(good(T0 + 4)),
    );
    let thief = DpopClient::new(Algorithm::EdDSA);
    case(
        "proof by another key",
        "invalid_dpop_proof",
        dpop(thief.proof("GET", API, T0, Some(t))),
        dpop(good(T0)),
    );
    let es = DpopClient::new(Algorithm::ES256);
    case(
        "proof by another key of another algorithm",
        "invalid_dpop_proof",
        dpop(es.proof("GET", API, T0, Some(t))),
        dpop(good(T0)),
    );
    case(
        "missing ath",
        "invalid_dpop_proof",
        dpop(c.proof("GET", API, T0, None)),
        dpop(good(T0)),
    );
    case(
        "ath of another token",
        "invalid_dpop_proof",
        dpop(c.proof("GET", API, T0, Some(&w.bearer))),
        dpop(good(T0)),
    );
    let mut private = c.header();
    private["jwk"]["d"] = json!(b64(&secret_of(&c.key)));
    case(
        "private key in the header jwk",
        "invalid_dpop_proof",
        dpop(c.sign(&private, &c.claims("GET", API, T0, Some(t)))),
        dpop(good(T0)),
    );
    let none = with(c.header(), "alg", json!("none"));
    let unsigned = {
        let signed = c.sign(&none, &c.claims("GET", API, T0, Some(t)));
        format!("{}.", signed.rsplit_once('.').unwrap().0)
    };
    case(
        "alg none",
        "invalid_dpop_proof",
        dpop(unsigned),
        dpop(good(T0)),
    );
    // Headers that must refuse the proof, each signed by the right key over good claims.
    for (name, header) in [
        ("typ jwt", with(c.header(), "typ", json!("JWT"))),
        ("no jwk", without(c.header(), "jwk")),
        (
            "jwk of another algorithm than alg",
            with(c.header(), "jwk", es.jwk()),
        ),
        (
            "a header that points elsewhere (jku)",
            with(c.header(), "jku", json!("https://evil.test/jwks")),
        ),
        ("a kid beside the jwk", with(c.header(), "kid", json!("k1"))),
    ] {
        case(
            name,
            "invalid_dpop_proof",
            dpop(c.sign(&header, &c.claims("GET", API, T0, Some(t)))),
            dpop(good(T0)),
        );
    }
    case(
        "tampered claims",
        "invalid_dpop_proof",
        dpop({
            let p = good(T0);
            let parts: Vec<&str> = p.split('.').collect();
            let claims = c.claims("GET", API, T0, Some(t));
            format!(
                "{}.{}.{}",
                parts[0],
                b64(claims.to_string().as_bytes()),
                parts[2]
            )
        }),
        dpop(good(T0)),
    );
    case(
        "HS256 proof keyed by the token",
        "invalid_dpop_proof",
        dpop(hs256_with_secret(
            &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(t.as_bytes())}}),
            &c.claims("GET", API, T0, Some(t)),
            t.as_bytes(),
        )),
        dpop(good(T0)),
    );
    case(
        "jti missing",
        "invalid_dpop_proof",
        dpop(c.sign(
            &c.header(),
            &without(c.claims("GET", API, T0, Some(t)), "jti"),
        )),
        dpop(good(T0)),
    );
    out
}

fn dpop_outcome(kc: &keycard::Keycard, p: &Present) -> Result<(), &'static str> {
    let r = match p {
        Present::Bearer(token) => kc.verify::<NoCustomClaims>(token).map(|_| ()),
        Present::Dpop {
            token,
            proof,
            method,
        } => kc
            .verify_dpop::<NoCustomClaims>(token, proof, method, API)
            .map(|_| ()),
    };
    r.map_err(|e| e.kind())
}

#[test]
fn dpop_attacks_fail_with_their_kind_and_controls_pass() {
    let w = dpop_world();
    let cases = dpop_cases(&w);
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    judge(cases.iter().map(|case| {
        // The attack first: a replay case's control is a fresh proof, never the attack's.
        let attack = dpop_outcome(&w.kc, &case.attack);
        let control = dpop_outcome(&w.kc, &case.control);
        (case.name, case.expect, attack, control)
    }));
}

#[test]
fn a_stolen_bound_session_is_useless_without_the_key() {
    let w = dpop_world();
    let c = &w.client;
    // The key `client` proves at a token endpoint (`path`: login or refresh).
    let proved = |client: &DpopClient, path: &str| {
        let url = format!("https://api.test/{path}");
        let req = keycard::dpop::ProofRequest {
            method: "POST",
            url: &url,
            access_token: None,
        };
        let proof = client.proof("POST", &url, T0, None);
        w.kc.check_dpop(&proof, &req).unwrap().jkt
    };
    let login = |client: &DpopClient| proved(client, "login");
    let refresh_proof = |client: &DpopClient| proved(client, "refresh");
    let pair =
        w.kc.login_dpop("carol", &NoCustomClaims {}, None, Some(login(c)))
            .unwrap();
    let refresh = pair.refresh.as_str();
    // The thief has the refresh token but not the key: no proof, or a proof by their own key.
    let thief = DpopClient::new(Algorithm::ES256);
    assert_eq!(
        w.kc.refresh(refresh, None).unwrap_err().kind(),
        "invalid_dpop_proof"
    );
    assert_eq!(
        w.kc.refresh_dpop(refresh, None, Some(&refresh_proof(&thief)))
            .unwrap_err()
            .kind(),
        "invalid_dpop_proof"
    );
    // Neither attempt burned the token nor ended the session: the owner refreshes, bound still.
    let next =
        w.kc.refresh_dpop(refresh, None, Some(&refresh_proof(c)))
            .unwrap();
    let token = next.access.as_str();
    let (verified, _) = w
        .kc
        .verify_dpop::<NoCustomClaims>(token, &c.proof("GET", API, T0, Some(token)), "GET", API)
        .unwrap();
    assert_eq!(verified.claims().dpop_jkt(), Some(c.thumbprint().as_str()));
    assert_eq!(
        w.kc.verify::<NoCustomClaims>(token).unwrap_err().kind(),
        "invalid_dpop_proof"
    );
    assert_eq!(next.token_type(), "DPoP");
    // A bearer session is bound at login or never: a proof at its refresh binds nothing, so
    // the thief of a bearer refresh token cannot bind the session to their key.
    let plain = w.kc.login("dave", &NoCustomClaims {}, None).unwrap();
    let after =
        w.kc.refresh_dpop(plain.refresh.as_str(), None, Some(&refresh_proof(&thief)))
            .unwrap();
    assert_eq!(
        (after.token_type(), after.dpop_jkt.as_deref()),
        ("Bearer", None)
    );
    assert!(w.kc.verify::<NoCustomClaims>(after.access.as_str()).is_ok());
    // A privilege change keeps the binding (never a downgrade to bearer).
    let again = w.kc.reissue(&verified, &json!({"role": "admin"})).unwrap();
    assert_eq!(
        w.kc.verify::<NoCustomClaims>(again.access.as_str())
            .unwrap_err()
            .kind(),
        "invalid_dpop_proof"
    );
}

#[test]
fn dpop_policy_and_nonces() {
    let f = fixture();
    let build = |b: keycard::KeycardBuilder| b.clock(Arc::new(f.clock.clone())).build().unwrap();
    let client = DpopClient::new(Algorithm::ES256);
    let req = keycard::dpop::ProofRequest {
        method: "POST",
        url: "https://api.test/login",
        access_token: None,
    };
    let proof = || client.proof("POST", "https://api.test/login", T0, None);

    let required =
        build(keycard::Keycard::builder(f.keys.clone()).dpop(keycard::dpop::DpopPolicy::Required));
    assert_eq!(
        required
            .login("alice", &NoCustomClaims {}, None)
            .unwrap_err()
            .kind(),
        "invalid_dpop_proof"
    );
    let jkt = required.check_dpop(&proof(), &req).unwrap().jkt;
    assert!(
        required
            .login_dpop("alice", &NoCustomClaims {}, None, Some(jkt))
            .is_ok()
    );

    // A policy turned to Required applies at the next refresh of an existing bearer session
    // (refused, nothing burned: the same session still refreshes where the policy allows it).
    let store: Arc<dyn keycard::refresh::SessionStore> =
        Arc::new(keycard::stores::MemoryStore::new());
    let before = build(keycard::Keycard::builder(f.keys.clone()).store(store.clone()));
    let after = build(
        keycard::Keycard::builder(f.keys.clone())
            .store(store)
            .dpop(keycard::dpop::DpopPolicy::Required),
    );
    let old = before.login("erin", &NoCustomClaims {}, None).unwrap();
    assert_eq!(
        after
            .refresh(old.refresh.as_str(), None)
            .unwrap_err()
            .kind(),
        "invalid_dpop_proof"
    );
    assert!(before.refresh(old.refresh.as_str(), None).is_ok());

    // Required for some clients: the rule's logins need a proof, the others may be bearer.
    let some = build(
        keycard::Keycard::builder(f.keys.clone())
            .dpop_required_for(|_, ctx| ctx.device.as_deref() == Some("ios")),
    );
    let ios = keycard::refresh::ClientContext::default().with_device("ios");
    let web = keycard::refresh::ClientContext::default().with_device("web");
    assert_eq!(
        some.login("alice", &NoCustomClaims {}, Some(&ios))
            .unwrap_err()
            .kind(),
        "invalid_dpop_proof"
    );
    assert!(some.login("alice", &NoCustomClaims {}, Some(&web)).is_ok());
    let jkt = some.check_dpop(&proof(), &req).unwrap().jkt;
    assert!(
        some.login_dpop("alice", &NoCustomClaims {}, Some(&ios), Some(jkt))
            .is_ok()
    );

    let off = build(keycard::Keycard::builder(f.keys.clone()).dpop(keycard::dpop::DpopPolicy::Off));
    assert_eq!(
        off.check_dpop(&proof(), &req).unwrap_err().kind(),
        "invalid_dpop_proof"
    );
    assert!(off.login("alice", &NoCustomClaims {}, None).is_ok());

    let nonced =
        build(keycard::Keycard::builder(f.keys.clone()).dpop_nonces(Duration::from_secs(300)));
    let err = nonced.check_dpop(&proof(), &req).unwrap_err();
    assert_eq!(err.kind(), "use_dpop_nonce");
    let keycard::Error::UseDpopNonce { nonce } = err else {
        unreachable!()
    };
    assert_eq!(nonced.dpop_nonce().as_deref(), Some(nonce.as_str()));
    let with_nonce = client.proof_with_nonce("POST", "https://api.test/login", T0, &nonce);
    assert!(nonced.check_dpop(&with_nonce, &req).is_ok());
    // A made-up nonce is asked to retry too; the previous period's is still good, older ones not.
    let made_up = client.proof_with_nonce(
        "POST",
        "https://api.test/login",
        T0,
        "AAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_eq!(
        nonced.check_dpop(&made_up, &req).unwrap_err().kind(),
        "use_dpop_nonce"
    );
    f.clock.advance(Duration::from_secs(300));
    let later = client.proof_with_nonce("POST", "https://api.test/login", T0 + 300, &nonce);
    assert!(nonced.check_dpop(&later, &req).is_ok());
    f.clock.advance(Duration::from_secs(300));
    let too_late = client.proof_with_nonce("POST", "https://api.test/login", T0 + 600, &nonce);
    assert_eq!(
        nonced.check_dpop(&too_late, &req).unwrap_err().kind(),
        "use_dpop_nonce"
    );
}
