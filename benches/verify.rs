//! Run with: cargo bench --features bench
//!
//! Token verification on a miss (the full check: decode, signature, claims)
//! and on a hit (the verified-token cache), for RS256, ES256 and EdDSA; the
//! same RS256 token through `jsonwebtoken::decode` as the baseline; the
//! layer as a whole; one issuer against eight; scope checks with 1 and 20
//! scopes; bearer-header parsing; a cache hit with a revocation list of
//! 4,000 entries against an empty one; and a DPoP request (ES256 proof,
//! in-process replay store) against the same token as `Bearer`.

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

/// A cache hit with an empty revocation list, and with 4,000 entries (none
/// of them this token's): what the revocation check adds to every request.
fn revocations(c: &mut Criterion) {
    let f = fixture(Algorithm::RS256);
    let empty = verifier(&f, true);
    let list = std::sync::Arc::new(scopegate::shared::InMemoryRevocations::new());
    let full = Verifier::builder(Issuer::with_static_jwks(ISSUER, f.jwks.clone()))
        .token_use("access")
        .client_ids(["bench-client"])
        .revocations(std::sync::Arc::clone(&list))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        for i in 0..1000 {
            full.revoke_jti(&format!("jti-{i}")).await.unwrap();
            full.revoke(scopegate::Revocation::origin_jti(format!("origin-{i}")))
                .await
                .unwrap();
            full.revoke_client(&format!("client-{i}")).await.unwrap();
            full.revoke_subject_before(&format!("sub-{i}"), SystemTime::now())
                .await
                .unwrap();
        }
    });
    for v in [&empty, &full] {
        __internals::verify_now(v, &f.token).unwrap();
    }
    let mut group = c.benchmark_group("revocations");
    group.bench_function("hit, empty list", |b| {
        b.iter(|| __internals::verify_now(&empty, black_box(&f.token)).unwrap())
    });
    group.bench_function("hit, 4000 entries", |b| {
        b.iter(|| __internals::verify_now(&full, black_box(&f.token)).unwrap())
    });
    group.finish();
}

/// A DPoP proof key (P-256) and proofs made with it.
struct ProofKey {
    pair: aws_lc_rs::signature::EcdsaKeyPair,
    jwk: serde_json::Value,
    thumbprint: String,
}

impl ProofKey {
    fn new() -> ProofKey {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = pair.public_key().as_ref().to_vec();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..]),
        );
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        ProofKey {
            pair,
            jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            thumbprint: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        }
    }

    fn proof(&self, jti: u64, htu: &str, token: &str) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let ath = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let claims = json!({"jti": format!("{jti}"), "htm": "GET", "htu": htu, "iat": now(),
                            "ath": URL_SAFE_NO_PAD.encode(ath.as_ref())});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let signature = self.pair.sign(&rng, input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// The layer with a DPoP-bound token and a fresh ES256 proof (made outside
/// the measurement), against the same kind of token as `Bearer`: the extra
/// cost of DPoP with the in-process replay store.
fn dpop(c: &mut Criterion) {
    let f = fixture(Algorithm::RS256);
    let key = ProofKey::new();
    let payload = |cnf: bool| {
        let iat = now();
        let mut claims = json!({
            "sub": "bench-client", "token_use": "access", "scope": READ, "iss": ISSUER,
            "exp": iat + 3600, "iat": iat, "jti": "bound", "client_id": "bench-client",
        });
        if cnf {
            claims["cnf"] = json!({"jkt": key.thumbprint});
        }
        let header = json!({"kid": f.key.kid(), "alg": "RS256"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        format!("{input}.{}", f.key.sign(input.as_bytes()).unwrap())
    };
    let (bound, plain) = (payload(true), payload(false));
    let origin = "https://api.example.com";
    let verifier = Verifier::builder(Issuer::with_static_jwks(ISSUER, f.jwks.clone()))
        .token_use("access")
        .client_ids(["bench-client"])
        .resource_server(
            ResourceServer::new("https://photos.example.com", "Photo API")
                .scope("photos.read", "Read"),
        )
        .dpop(scopegate::Dpop::new(origin).unwrap())
        .build()
        .unwrap();
    let mut service =
        verifier
            .require(READ)
            .unwrap()
            .layer(tower::service_fn(|_req: Request<String>| async {
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let request = |scheme: &str, token: &str, proof: Option<String>| {
        let mut request = Request::builder().uri("/photos");
        request = request.header("authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.body(String::new()).unwrap()
    };
    let htu = format!("{origin}/photos");
    let mut group = c.benchmark_group("dpop");
    group.bench_function("layer, Bearer (cache hit)", |b| {
        b.iter_batched(
            || request("Bearer", &plain, None),
            |r| {
                let response = runtime.block_on(service.call(r)).unwrap();
                assert_eq!(response.status(), 200);
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let mut jti = 0u64;
    group.bench_function("layer, DPoP ES256 proof (token cache hit)", |b| {
        b.iter_batched(
            || {
                jti += 1;
                request("DPoP", &bound, Some(key.proof(jti, &htu, &bound)))
            },
            |r| {
                let response = runtime.block_on(service.call(r)).unwrap();
                assert_eq!(response.status(), 200);
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    verification,
    layer,
    several_issuers,
    scopes,
    revocations,
    dpop
);
criterion_main!(benches);
