//! Scopes (Cognito resource servers).

use super::*;

pub(crate) async fn scopes_match_exactly(target: Target) {
    let (issuer, gate) = setup(target).await;
    let refused = [
        "https://photos.example.com/photos.readwrite",
        "https://photos.example.com/photos.rea",
        "https://photos.example.com/Photos.read",
        "https://PHOTOS.example.com/photos.read",
        "https://photos.example.com//photos.read",
        "https://photos.example.com/photos.read/",
        "photos.read",
        "https://photos.example.com/photos.read,openid",
        "openid\thttps://photos.example.com/photos.read",
        "https://photos.example.com/photos.read\u{0}",
        "https://photos.example.com/*",
        "*",
        "",
    ];
    for scope in refused {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .claim("scope", json!(scope))
            .mint();
        gate.token(&token, Expect::InsufficientScope(READ), scope)
            .await;
    }
    for scope in [
        "openid https://photos.example.com/photos.read profile",
        "https://photos.example.com/photos.read",
        "  https://photos.example.com/photos.read  ",
    ] {
        let token = issuer
            .token()
            .client_id(CLIENT)
            .claim("scope", json!(scope))
            .mint();
        gate.token(&token, Expect::Accepted, scope).await;
    }
}

pub(crate) async fn scope_of_another_resource_server_is_403(target: Target) {
    let (issuer, gate) = setup(target).await;
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scope("https://other.example.com/photos.read")
        .mint();
    gate.token(&token, Expect::InsufficientScope(READ), "other identifier")
        .await;
}
