//! RFC 6750: how the token travels, and how refusals read.

use super::*;

pub(crate) async fn no_credentials_is_401_with_a_bare_challenge(target: Target) {
    let (_issuer, gate) = setup(target).await;
    for path in ["/read", "/write", "/me"] {
        gate.expect(path, &[], Expect::NoCredentials, path).await;
    }
}

pub(crate) async fn another_scheme_is_401_with_a_bare_challenge(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    let basic_with_token = format!("Basic {token}");
    let values: [&[u8]; 5] = [
        b"Basic dXNlcjpwYXNz",
        b"Negotiate abc",
        b"Digest username=\"a\", realm=\"b\"",
        b"Bearerx abc",
        basic_with_token.as_bytes(),
    ];
    for value in values {
        let what = String::from_utf8_lossy(&value[..value.len().min(20)]).into_owned();
        gate.expect("/read", &[value], Expect::NoCredentials, &what)
            .await;
    }
}

pub(crate) async fn bearer_scheme_is_case_insensitive(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    for scheme in ["Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "] {
        let value = format!("{scheme}{token}");
        gate.expect("/read", &[value.as_bytes()], Expect::Accepted, scheme)
            .await;
    }
}

pub(crate) async fn two_authorization_headers_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = format!("Bearer {}", read_token(&issuer).mint());
    let cases: [&[&[u8]]; 3] = [
        &[good.as_bytes(), good.as_bytes()],
        &[good.as_bytes(), b"Basic dXNlcjpwYXNz"],
        &[b"Basic dXNlcjpwYXNz", good.as_bytes()],
    ];
    for values in cases {
        gate.expect("/read", values, Expect::InvalidRequest, "two lines")
            .await;
    }
}

pub(crate) async fn malformed_bearer_credentials_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = read_token(&issuer).mint();
    let cases = [
        "Bearer".to_string(),
        "Bearer    ".to_string(),
        format!("Bearer {good} extra"),
        format!("Bearer \"{good}\""),
        format!("Bearer {good},"),
        format!("Bearer {good}, Bearer {good}"),
        "Bearer ===".to_string(),
        format!("Bearer <{good}>"),
    ];
    for value in cases {
        gate.expect(
            "/read",
            &[value.as_bytes()],
            Expect::InvalidRequest,
            &value[..value.len().min(30)],
        )
        .await;
    }
}

pub(crate) async fn control_and_non_ascii_bytes_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let good = read_token(&issuer).mint();
    let values: Vec<Vec<u8>> = vec![
        [b"Bearer ".as_slice(), good.as_bytes(), b"\xff"].concat(),
        [b"Bearer \xc3\xa9".as_slice(), good.as_bytes()].concat(),
        [b"Bearer\t".as_slice(), good.as_bytes()].concat(),
        [
            b"Bearer ".as_slice(),
            &good.as_bytes()[..10],
            b"\x01",
            &good.as_bytes()[10..],
        ]
        .concat(),
    ];
    for value in values {
        // The HTTP server may refuse such bytes before the gate does (with
        // 400 as well); the verifier must never get them.
        let reply = gate.send("/read", &[&value]).await;
        assert_eq!(reply.status, 400, "{target:?}: {}", reply.head);
        assert_eq!(gate.reached.load(Ordering::SeqCst), 0);
    }
}

pub(crate) async fn token_in_the_query_is_never_accepted(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    gate.expect(
        &format!("/read?access_token={token}"),
        &[],
        Expect::NoCredentials,
        "query",
    )
    .await;
    gate.expect(
        &format!("/read?access_token={token}"),
        &[b"Basic dXNlcjpwYXNz"],
        Expect::NoCredentials,
        "query with Basic",
    )
    .await;
}

pub(crate) async fn header_and_query_token_together_are_400(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = read_token(&issuer).mint();
    let header = format!("Bearer {token}");
    for query in [
        format!("access_token={token}"),
        "page=2&access_token=x".to_string(),
    ] {
        gate.expect(
            &format!("/read?{query}"),
            &[header.as_bytes()],
            Expect::InvalidRequest,
            "header and query",
        )
        .await;
    }
    // Other parameters are fine.
    gate.expect(
        "/read?my_access_token=x&page=2",
        &[header.as_bytes()],
        Expect::Accepted,
        "other parameters",
    )
    .await;
}

pub(crate) async fn missing_scope_is_403_naming_the_scope(target: Target) {
    let (issuer, gate) = setup(target).await;
    let read = format!("Bearer {}", read_token(&issuer).mint());
    gate.expect(
        "/write",
        &[read.as_bytes()],
        Expect::InsufficientScope(WRITE),
        "read token on a write route",
    )
    .await;
    let none = format!("Bearer {}", issuer.token().client_id(CLIENT).mint());
    gate.expect(
        "/read",
        &[none.as_bytes()],
        Expect::InsufficientScope(READ),
        "no scope",
    )
    .await;
    gate.expect(
        "/me",
        &[none.as_bytes()],
        Expect::Accepted,
        "authenticated only",
    )
    .await;
}

pub(crate) async fn nothing_from_the_token_is_echoed(target: Target) {
    let (issuer, gate) = setup(target).await;
    let marker = "ZZmarkerZZ";
    let tokens = [
        read_token(&issuer).claim("marker", json!(marker)).mint(),
        issuer
            .token()
            .client_id(CLIENT)
            .scope(format!("{READ} {marker}"))
            .mint(),
        read_token(&issuer).header("kid", json!(marker)).mint(),
        issuer.token().client_id(marker).scope(READ).mint(),
        read_token(&issuer).claim("iss", json!(marker)).mint(),
        format!("{marker}.{marker}.{marker}"),
        format!("{marker} {marker}"),
    ];
    for token in tokens {
        let header = format!("Bearer {token}");
        for path in ["/write", "/read"] {
            let reply = gate.send(path, &[header.as_bytes()]).await;
            if reply.status == 200 {
                continue;
            }
            assert!(
                !reply.contains(marker) && !reply.contains(&token[..20]),
                "{target:?}: echoed\n{}",
                reply.head
            );
        }
    }
}
