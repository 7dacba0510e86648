//! Run with: cargo bench --features bench
//!
//! Token verification on a miss (the full check: decode, signature, claims)
//! and on a hit (the verified-token cache), for RS256, ES256 and EdDSA; the
//! same RS256 token through `jsonwebtoken::decode` as the baseline; the
//! layer as a whole; one issuer against eight; scope checks with 1 and 20
//! scopes; bearer-header parsing.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly on setup errors

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Request, Response};
use scopegate::local::SigningKey;
use scopegate::{__internals, Algorithm, Issuer, ResourceServer, Scope, Verifier};
use serde_json::json;
use tower::{Layer, Service};

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench";
const READ: &str = "https://photos.example.com/photos.read";

struct Fixture {
    key: SigningKey,
    jwks: String,
    token: String,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Cognito-shaped access token signed by `key`.
fn mint(key: &SigningKey, jti: u64) -> String {
    let header = json!({"kid": key.kid(), "alg": key.algorithm().as_str()});
    let iat = now();
    let claims = json!({
        "sub": "bench-client", "token_use": "access", "scope": READ,
        "auth_time": iat, "iss": ISSUER, "exp": iat + 3600, "iat": iat,
        "version": 2, "jti": format!("{jti:032x}"), "client_id": "bench-client",
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{signature}")
}

fn fixture(alg: Algorithm) -> Fixture {
    let key = SigningKey::generate(alg).unwrap();
    let jwks = json!({"keys": [key.public_jwk()]}).to_string();
    let token = mint(&key, 1);
    Fixture { key, jwks, token }
}

fn verifier(f: &Fixture, cache: bool) -> Verifier {
    Verifier::builder(Issuer::with_static_jwks(ISSUER, f.jwks.clone()))
        .token_use("access")
        .client_ids(["bench-client"])
        .resource_server(
            ResourceServer::new("https://photos.example.com", "Photo API")
                .scope("photos.read", "Read"),
        )
        .token_cache_capacity(if cache { 10_000 } else { 0 })
        .build()
        .unwrap()
}

fn verification(c: &mut Criterion) {
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let f = fixture(alg);
        let cold = verifier(&f, false);
        let hot = verifier(&f, true);
        __internals::verify_now(&hot, &f.token).unwrap();
        let mut group = c.benchmark_group(format!("verify/{alg}"));
        group.bench_function("miss", |b| {
            b.iter(|| __internals::verify_now(&cold, black_box(&f.token)).unwrap())
        });
        group.bench_function("hit", |b| {
            b.iter(|| __internals::verify_now(&hot, black_box(&f.token)).unwrap())
        });
        // Two tokens in turn: never this thread's last token, so every hit
        // takes the SHA-256 and the shared cache.
        let other = mint(&f.key, 2);
        __internals::verify_now(&hot, &other).unwrap();
        let pair = [f.token.clone(), other];
        let mut i = 0;
        group.bench_function("hit (shared cache)", |b| {
            b.iter(|| {
                i ^= 1;
                __internals::verify_now(&hot, black_box(&pair[i])).unwrap()
            })
        });
        group.finish();
    }

    // The baseline: the same RS256 token through jsonwebtoken alone, with
    // the checks scopegate makes (exp, iss), its key parsed once.
    let f = fixture(Algorithm::RS256);
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(f.key.public_jwk().clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    let cold = verifier(&f, false);
    // The floor: the RSA signature check alone, key parsed once.
    let jwk = f.key.public_jwk();
    let decode = |field: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[field].as_str().unwrap())
            .unwrap()
    };
    let (n, e) = (decode("n"), decode("e"));
    let public = aws_lc_rs::signature::RsaPublicKeyComponents {
        n: &n[..],
        e: &e[..],
    }
    .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
    .unwrap();
    let (input, signature) = f.token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let mut group = c.benchmark_group("verify/RS256-baseline");
    group.bench_function("aws-lc-rs signature only", |b| {
        b.iter(|| {
            public
                .verify_sig(black_box(input.as_bytes()), &signature)
                .unwrap()
        })
    });
    group.bench_function("jsonwebtoken::decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&f.token), &key, &validation)
                .unwrap()
        })
    });
    group.bench_function("scopegate-miss", |b| {
        b.iter(|| __internals::verify_now(&cold, black_box(&f.token)).unwrap())
    });
    group.finish();
}

fn layer(c: &mut Criterion) {
    let f = fixture(Algorithm::RS256);
    let verifier = verifier(&f, true);
    let layer = verifier.require(READ).unwrap();
    let mut service = layer.layer(tower::service_fn(|_req: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    }));
    let header = HeaderValue::from_str(&format!("Bearer {}", f.token)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    c.bench_function("layer/accepted (cache hit)", |b| {
        b.iter(|| {
            let mut request = Request::new(String::new());
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, header.clone());
            runtime.block_on(service.call(request)).unwrap()
        })
    });
    c.bench_function("layer/rejected (no token)", |b| {
        b.iter(|| {
            runtime
                .block_on(service.call(Request::new(String::new())))
                .unwrap()
        })
    });
}

/// One issuer against eight (seven others first, the token's last): a hit
/// must cost the same; a miss adds the `iss` read that chooses the keys.
fn several_issuers(c: &mut Criterion) {
    let f = fixture(Algorithm::RS256);
    let other = |i: usize| {
        scopegate::TrustedIssuer::new(Issuer::with_static_jwks(
            format!("https://issuer{i}.example.com"),
            fixture(Algorithm::RS256).jwks,
        ))
        .client_ids(["bench-client"])
    };
    let eight = |cache: bool| {
        (1..7)
            .fold(Verifier::builder(other(0)), |builder, i| {
                builder.trust(other(i))
            })
            .trust(
                scopegate::TrustedIssuer::new(Issuer::with_static_jwks(ISSUER, f.jwks.clone()))
                    .token_use("access")
                    .client_ids(["bench-client"]),
            )
            .token_cache_capacity(if cache { 10_000 } else { 0 })
            .build()
            .unwrap()
    };
    let mut group = c.benchmark_group("issuers");
    for (name, hot, cold) in [
        ("1", verifier(&f, true), verifier(&f, false)),
        ("8", eight(true), eight(false)),
    ] {
        __internals::verify_now(&hot, &f.token).unwrap();
        group.bench_function(format!("{name}/hit"), |b| {
            b.iter(|| __internals::verify_now(&hot, black_box(&f.token)).unwrap())
        });
        group.bench_function(format!("{name}/miss"), |b| {
            b.iter(|| __internals::verify_now(&cold, black_box(&f.token)).unwrap())
        });
    }
    group.finish();
}

fn scopes(c: &mut Criterion) {
    let required = [Scope::parse(READ).unwrap()];
    let one = READ.to_string();
    let twenty = (0..19)
        .map(|i| format!("https://api{i}.example.com/scope.{i}"))
        .chain([READ.to_string()])
        .collect::<Vec<_>>()
        .join(" ");
    let mut group = c.benchmark_group("scope-check");
    group.bench_function("1 scope", |b| {
        b.iter(|| __internals::scopes_met(black_box(&one), &required))
    });
    group.bench_function("20 scopes", |b| {
        b.iter(|| __internals::scopes_met(black_box(&twenty), &required))
    });
    group.finish();

    let f = fixture(Algorithm::ES256);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", f.token)).unwrap(),
    );
    c.bench_function("bearer-header", |b| {
        b.iter(|| {
            __internals::bearer(black_box(&headers))
                .unwrap()
                .unwrap()
                .len()
        })
    });
}

criterion_group!(benches, verification, layer, several_issuers, scopes);
criterion_main!(benches);
