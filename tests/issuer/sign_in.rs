//! The sign-in APIs over HTTP: InitiateAuth / AdminInitiateAuth,
//! RespondToAuthChallenge (NEW_PASSWORD_REQUIRED), refresh, GetUser,
//! GlobalSignOut, AdminUserGlobalSignOut, RevokeToken,
//! GetTokensFromRefreshToken; flows, secret hashes, lockout.

use super::*;

const FLOWS: [&str; 3] = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// A pool, a public client allowing the password and refresh flows, and a
/// confirmed user `olga` with an e-mail address.
async fn setup(issuer: &LocalIssuer) -> (String, String) {
    let pool = users_pool(issuer, json!({})).await;
    let (client, _) = app_client(issuer, &pool, &FLOWS, false).await;
    confirmed_user(
        issuer,
        &pool,
        "olga",
        GOOD_PASSWORD,
        json!([{"Name": "email", "Value": "olga@example.com"}]),
    );
    (pool, client)
}

async fn signed_in(issuer: &LocalIssuer, client: &str, user: &str) -> Value {
    let (status, body, _) = password_auth(issuer, client, user, GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["AuthenticationResult"].clone()
}

async fn get_user(issuer: &LocalIssuer, access_token: &str) -> (u16, Value) {
    let (status, body, _) = call(issuer, "GetUser", json!({"AccessToken": access_token})).await;
    (status, body)
}

async fn refresh(issuer: &LocalIssuer, client: &str, token: &str) -> (u16, Value) {
    let (status, body, _) = call(
        issuer,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": token}}),
    )
    .await;
    (status, body)
}

fn is_not_authorized(status: u16, body: &Value, message: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    assert_eq!(body["message"], message, "{body}");
}

#[tokio::test]
async fn a_password_sign_in_returns_cognitos_tokens_and_get_user_reads_them() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    let result = signed_in(&issuer, &client, "olga").await;
    assert_eq!(result["TokenType"], "Bearer");
    assert_eq!(result["ExpiresIn"], 3600);
    assert!(result["RefreshToken"].as_str().unwrap().len() > 40);
    let access = claims_of(result["AccessToken"].as_str().unwrap());
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["username"], "olga");
    assert_eq!(access["client_id"], client.as_str());
    assert_eq!(access["iss"], format!("{}/{pool}", issuer.base_url()));
    let id = claims_of(result["IdToken"].as_str().unwrap());
    assert_eq!(id["aud"], client.as_str());
    assert_eq!(id["email"], "olga@example.com");
    assert_eq!(id["origin_jti"], access["origin_jti"]);

    let (status, user) = get_user(&issuer, result["AccessToken"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["Username"], "olga");
    let names: Vec<&str> = user["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"sub") && names.contains(&"email"), "{user}");
    let (status, body) = get_user(&issuer, "not-a-token").await;
    is_not_authorized(status, &body, "Invalid Access Token");

    // AdminInitiateAuth, with both names of the admin flow.
    for flow in ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"] {
        let out = ok(
            &issuer,
            "AdminInitiateAuth",
            json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": flow,
                   "AuthParameters": {"USERNAME": "olga", "PASSWORD": GOOD_PASSWORD}}),
        )
        .await;
        let again = claims_of(out["AuthenticationResult"]["AccessToken"].as_str().unwrap());
        assert_ne!(
            again["origin_jti"], access["origin_jti"],
            "a fresh origin per sign-in"
        );
    }
    let message = fails(
        &issuer,
        "AdminInitiateAuth",
        json!({"UserPoolId": "eu-west-2_other0000", "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "olga", "PASSWORD": GOOD_PASSWORD}}),
        "ResourceNotFoundException",
    )
    .await;
    assert!(message.contains(&client), "{message}");
}

#[tokio::test]
async fn a_temporary_password_leads_to_new_password_required() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &FLOWS, false).await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "pat", "TemporaryPassword": "Temp-pass1", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "pat@example.com"}]}),
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "pat", "Temp-pass1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    assert!(
        body.get("AuthenticationResult").is_none(),
        "no token before a new password"
    );
    let session = body["Session"].as_str().unwrap().to_string();
    let params = &body["ChallengeParameters"];
    assert_eq!(params["USER_ID_FOR_SRP"], "pat");
    assert_eq!(params["requiredAttributes"], "[]");
    let attributes: Value =
        serde_json::from_str(params["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["email"], "pat@example.com");

    let respond = |password: &str, session: &str| {
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
               "ChallengeResponses": {"USERNAME": "pat", "NEW_PASSWORD": password, "userAttributes.given_name": "Pat"}})
    };
    fails(
        &issuer,
        "RespondToAuthChallenge",
        respond("weak", &session),
        "InvalidPasswordException",
    )
    .await;
    let out = ok(
        &issuer,
        "RespondToAuthChallenge",
        respond(GOOD_PASSWORD, &session),
    )
    .await;
    let result = &out["AuthenticationResult"];
    assert!(result["RefreshToken"].is_string());
    let message = fails(
        &issuer,
        "RespondToAuthChallenge",
        respond(GOOD_PASSWORD, &session),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(
        message, "Invalid session for the user, session is expired.",
        "one use"
    );
    fails(
        &issuer,
        "RespondToAuthChallenge",
        respond(GOOD_PASSWORD, "made-up"),
        "NotAuthorizedException",
    )
    .await;

    let got = issuer
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "pat"}),
        )
        .unwrap();
    assert_eq!(got["UserStatus"], "CONFIRMED");
    assert!(
        got["UserAttributes"].to_string().contains("Pat"),
        "userAttributes.* are set"
    );
    let (status, _, _) = password_auth(&issuer, &client, "pat", "Temp-pass1").await;
    assert_eq!(status, 400, "the temporary password is gone");
    signed_in(&issuer, &client, "pat").await;
    let (status, _) = get_user(&issuer, result["AccessToken"].as_str().unwrap()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn wrong_passwords_unknown_users_disabled_and_unconfirmed_users_are_refused() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    let (status, wrong, _) = password_auth(&issuer, &client, "olga", "Wrong-passw0rd").await;
    is_not_authorized(status, &wrong, "Incorrect username or password.");
    let (status, unknown, _) = password_auth(&issuer, &client, "nobody", "Wrong-passw0rd").await;
    is_not_authorized(status, &unknown, "Incorrect username or password.");
    assert_eq!(
        wrong["message"], unknown["message"],
        "the answer does not tell who exists"
    );

    ok(
        &issuer,
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "olga", GOOD_PASSWORD).await;
    is_not_authorized(status, &body, "User is disabled.");
    ok(
        &issuer,
        "AdminEnableUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    )
    .await;
    signed_in(&issuer, &client, "olga").await;

    ok(
        &issuer,
        "SignUp",
        json!({"ClientId": client, "Username": "quinn", "Password": GOOD_PASSWORD}),
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "quinn", GOOD_PASSWORD).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UserNotConfirmedException");
    assert_eq!(body["message"], "User is not confirmed.");
}

#[tokio::test]
async fn repeated_failures_lock_the_user_out_even_with_the_right_password() {
    let issuer = empty_issuer().await;
    let (_, client) = setup(&issuer).await;
    for _ in 0..6 {
        let (status, body, _) = password_auth(&issuer, &client, "olga", "Wrong-passw0rd").await;
        assert_eq!(status, 400);
        assert_eq!(body["__type"], "NotAuthorizedException");
    }
    let (status, body, _) = password_auth(&issuer, &client, "olga", GOOD_PASSWORD).await;
    is_not_authorized(status, &body, "Password attempts exceeded");
}

#[tokio::test]
async fn flows_are_allowed_only_as_the_client_says() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (default_client, _) = app_client(&issuer, &pool, &[], false).await;
    let (status, body, _) = password_auth(&issuer, &default_client, "x", "y").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidParameterException"))
    );
    assert_eq!(
        body["message"],
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let (user_only, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let message = fails(
        &issuer,
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": user_only, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "x", "PASSWORD": "y"}}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(
        message,
        "ADMIN_USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let (status, body) = refresh(&issuer, &user_only, "whatever").await;
    assert_eq!(
        body["message"], "REFRESH_TOKEN_AUTH flow not enabled for this client",
        "{status}"
    );
    // The legacy name allows it too.
    let (legacy, _) = app_client(&issuer, &pool, &["USER_PASSWORD_AUTH"], false).await;
    let (_, body, _) = password_auth(&issuer, &legacy, "nobody", "y").await;
    assert_eq!(
        body["__type"], "NotAuthorizedException",
        "allowed, then refused for the password"
    );
    // The admin flow is not an InitiateAuth flow; unknown flows are refused.
    let message = fails(
        &issuer,
        "InitiateAuth",
        json!({"ClientId": user_only, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "AuthParameters": {}}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(message, "Initiate Auth method not supported.");
    fails(
        &issuer,
        "InitiateAuth",
        json!({"ClientId": user_only, "AuthFlow": "MAGIC"}),
        "InvalidParameterException",
    )
    .await;
}

#[tokio::test]
async fn a_client_with_a_secret_needs_the_right_secret_hash() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, secret) = app_client(&issuer, &pool, &FLOWS, true).await;
    let secret = secret.unwrap();
    confirmed_user(&issuer, &pool, "rae", GOOD_PASSWORD, json!([]));
    let auth = |hash: Option<String>| {
        let mut params = json!({"USERNAME": "rae", "PASSWORD": GOOD_PASSWORD});
        if let Some(h) = hash {
            params["SECRET_HASH"] = json!(h);
        }
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client, "AuthParameters": params})
    };
    let message = fails(
        &issuer,
        "InitiateAuth",
        auth(None),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(
        message,
        format!("Client {client} is configured for secret but secret was not received")
    );
    let message = fails(
        &issuer,
        "InitiateAuth",
        auth(Some(secret_hash(&secret, "eve", &client))),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(
        message,
        format!("Unable to verify secret hash for client {client}")
    );
    let out = ok(
        &issuer,
        "InitiateAuth",
        auth(Some(secret_hash(&secret, "rae", &client))),
    )
    .await;
    let refresh_token = out["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = claims_of(out["AuthenticationResult"]["AccessToken"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_string();

    // Refresh: the hash over the user name or the sub; required.
    let refresh_with = |hash: Option<String>| {
        let mut params = json!({"REFRESH_TOKEN": refresh_token});
        if let Some(h) = hash {
            params["SECRET_HASH"] = json!(h);
        }
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": params})
    };
    fails(
        &issuer,
        "InitiateAuth",
        refresh_with(None),
        "NotAuthorizedException",
    )
    .await;
    fails(
        &issuer,
        "InitiateAuth",
        refresh_with(Some(secret_hash(&secret, "eve", &client))),
        "NotAuthorizedException",
    )
    .await;
    ok(
        &issuer,
        "InitiateAuth",
        refresh_with(Some(secret_hash(&secret, "rae", &client))),
    )
    .await;
    ok(
        &issuer,
        "InitiateAuth",
        refresh_with(Some(secret_hash(&secret, &sub, &client))),
    )
    .await;
}

#[tokio::test]
async fn refresh_keeps_the_sign_in_and_refuses_other_clients_tokens() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    let (other, _) = app_client(&issuer, &pool, &FLOWS, false).await;
    let result = signed_in(&issuer, &client, "olga").await;
    let token = result["RefreshToken"].as_str().unwrap();
    let (status, body) = refresh(&issuer, &client, token).await;
    assert_eq!(status, 200, "{body}");
    let refreshed = &body["AuthenticationResult"];
    assert!(
        refreshed.get("RefreshToken").is_none(),
        "no new refresh token"
    );
    assert!(refreshed["IdToken"].is_string());
    let before = claims_of(result["AccessToken"].as_str().unwrap());
    let after = claims_of(refreshed["AccessToken"].as_str().unwrap());
    assert_eq!(after["origin_jti"], before["origin_jti"]);
    assert_eq!(after["auth_time"], before["auth_time"]);
    assert_ne!(after["jti"], before["jti"]);
    assert_eq!(after["scope"], "aws.cognito.signin.user.admin");
    // The old name of the flow works too.
    let (status, _, _) = call(
        &issuer,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": token}}),
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = refresh(&issuer, &other, token).await;
    is_not_authorized(status, &body, "Invalid Refresh Token");
    let (status, body) = refresh(&issuer, &client, "made-up-token").await;
    is_not_authorized(status, &body, "Invalid Refresh Token");
    ok(
        &issuer,
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    )
    .await;
    let (status, body) = refresh(&issuer, &client, token).await;
    is_not_authorized(status, &body, "User is disabled.");
}

#[tokio::test]
async fn global_sign_out_revokes_every_token_of_the_user() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    let first = signed_in(&issuer, &client, "olga").await;
    let second = signed_in(&issuer, &client, "olga").await;
    let access = first["AccessToken"].as_str().unwrap();
    ok(&issuer, "GlobalSignOut", json!({"AccessToken": access})).await;
    for result in [&first, &second] {
        let (status, body) = get_user(&issuer, result["AccessToken"].as_str().unwrap()).await;
        is_not_authorized(status, &body, "Access Token has been revoked");
        let (status, body) =
            refresh(&issuer, &client, result["RefreshToken"].as_str().unwrap()).await;
        is_not_authorized(status, &body, "Invalid Refresh Token");
    }
    let (status, body, _) = call(&issuer, "GlobalSignOut", json!({"AccessToken": access})).await;
    is_not_authorized(status, &body, "Access Token has been revoked");

    // The administrator's version.
    let third = signed_in(&issuer, &client, "olga").await;
    ok(
        &issuer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool, "Username": "olga"}),
    )
    .await;
    let (status, body) = get_user(&issuer, third["AccessToken"].as_str().unwrap()).await;
    is_not_authorized(status, &body, "Access Token has been revoked");
    let (status, body) = refresh(&issuer, &client, third["RefreshToken"].as_str().unwrap()).await;
    is_not_authorized(status, &body, "Invalid Refresh Token");
    fails(
        &issuer,
        "AdminUserGlobalSignOut",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn revoke_token_ends_one_sign_in() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, secret) = app_client(&issuer, &pool, &FLOWS, true).await;
    let secret = secret.unwrap();
    confirmed_user(&issuer, &pool, "sam", GOOD_PASSWORD, json!([]));
    let sign_in = || {
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "sam", "PASSWORD": GOOD_PASSWORD, "SECRET_HASH": secret_hash(&secret, "sam", &client)}})
    };
    let revoked = ok(&issuer, "AdminInitiateAuth", sign_in()).await["AuthenticationResult"].clone();
    let kept = ok(&issuer, "AdminInitiateAuth", sign_in()).await["AuthenticationResult"].clone();
    let token = revoked["RefreshToken"].as_str().unwrap();
    fails(
        &issuer,
        "RevokeToken",
        json!({"Token": token, "ClientId": client}),
        "NotAuthorizedException",
    )
    .await;
    fails(
        &issuer,
        "RevokeToken",
        json!({"Token": token, "ClientId": client, "ClientSecret": "wrong"}),
        "NotAuthorizedException",
    )
    .await;
    let message = fails(
        &issuer,
        "RevokeToken",
        json!({"Token": revoked["AccessToken"], "ClientId": client, "ClientSecret": secret}),
        "UnsupportedTokenTypeException",
    )
    .await;
    assert!(!message.contains("eyJ"), "no token in the message");
    ok(
        &issuer,
        "RevokeToken",
        json!({"Token": token, "ClientId": client, "ClientSecret": secret}),
    )
    .await;
    let (status, body) = get_user(&issuer, revoked["AccessToken"].as_str().unwrap()).await;
    is_not_authorized(status, &body, "Access Token has been revoked");
    let (status, body) = get_user(&issuer, kept["AccessToken"].as_str().unwrap()).await;
    assert_eq!(status, 200, "another sign-in is untouched: {body}");
    let refreshed = ok(
        &issuer,
        "GetTokensFromRefreshToken",
        json!({"RefreshToken": kept["RefreshToken"], "ClientId": client, "ClientSecret": secret}),
    )
    .await;
    assert!(refreshed["AuthenticationResult"]["AccessToken"].is_string());
    let (status, body, _) = call(
        &issuer,
        "GetTokensFromRefreshToken",
        json!({"RefreshToken": token, "ClientId": client, "ClientSecret": secret}),
    )
    .await;
    is_not_authorized(status, &body, "Invalid Refresh Token");
    // Unknown tokens: success, nothing to revoke (RFC 7009).
    ok(
        &issuer,
        "RevokeToken",
        json!({"Token": "unknown", "ClientId": client, "ClientSecret": secret}),
    )
    .await;
}

#[tokio::test]
async fn group_membership_appears_in_the_tokens() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    for group in ["readers", "writers"] {
        ok(
            &issuer,
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": group}),
        )
        .await;
        ok(
            &issuer,
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": "olga", "GroupName": group}),
        )
        .await;
    }
    let result = signed_in(&issuer, &client, "olga").await;
    let access = claims_of(result["AccessToken"].as_str().unwrap());
    assert_eq!(access["cognito:groups"], json!(["readers", "writers"]));
    let id = claims_of(result["IdToken"].as_str().unwrap());
    assert_eq!(id["cognito:groups"], json!(["readers", "writers"]));
}

/// USER_SRP_AUTH's first step; the SRP math itself is checked by
/// pycognito in `scripts/aws-interop.sh` (a Rust client would repeat
/// `srp.rs`).
async fn srp_start(issuer: &LocalIssuer, client: &str, user: &str) -> Value {
    ok(
        issuer,
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": user, "SRP_A": "abcdef0123456789"}}),
    )
    .await
}

fn srp_claim(client: &str, user: &str, block: &str, timestamp: &str) -> Value {
    json!({"ClientId": client, "ChallengeName": "PASSWORD_VERIFIER", "ChallengeResponses": {
        "USERNAME": user, "PASSWORD_CLAIM_SECRET_BLOCK": block, "TIMESTAMP": timestamp,
        "PASSWORD_CLAIM_SIGNATURE": "c2lnbmF0dXJlIHRoYXQgaXMgd3Jvbmc="}})
}

/// Now, as the SRP clients write it.
fn srp_timestamp(offset_seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset_seconds;
    let days = now.div_euclid(86_400);
    let secs = now.rem_euclid(86_400);
    // Civil date from days since the epoch (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    format!(
        "{weekday} {} {day} {:02}:{:02}:{:02} UTC {year}",
        months[(month - 1) as usize],
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[tokio::test]
async fn srp_challenges_look_alike_for_every_user_and_a_wrong_claim_is_refused() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &[], false).await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    let known = srp_start(&issuer, &client, "olga").await;
    let unknown = srp_start(&issuer, &client, "nobody").await;
    for out in [&known, &unknown] {
        assert_eq!(out["ChallengeName"], "PASSWORD_VERIFIER");
        let params = out["ChallengeParameters"].as_object().unwrap();
        let mut names: Vec<&str> = params.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "SALT",
                "SECRET_BLOCK",
                "SRP_B",
                "USERNAME",
                "USER_ID_FOR_SRP"
            ]
        );
        assert!(
            params["SRP_B"].as_str().unwrap().len() > 700,
            "a 3072-bit B"
        );
    }
    assert_eq!(known["ChallengeParameters"]["USER_ID_FOR_SRP"], "olga");
    let block = known["ChallengeParameters"]["SECRET_BLOCK"]
        .as_str()
        .unwrap();

    let (status, body, _) = call(
        &issuer,
        "RespondToAuthChallenge",
        srp_claim(&client, "olga", block, &srp_timestamp(0)),
    )
    .await;
    is_not_authorized(status, &body, "Incorrect username or password.");
    let (status, body, _) = call(
        &issuer,
        "RespondToAuthChallenge",
        srp_claim(&client, "olga", block, &srp_timestamp(0)),
    )
    .await;
    is_not_authorized(
        status,
        &body,
        "Invalid session for the user, session is expired.",
    );

    let again = srp_start(&issuer, &client, "olga").await;
    let block = again["ChallengeParameters"]["SECRET_BLOCK"]
        .as_str()
        .unwrap();
    fails(
        &issuer,
        "RespondToAuthChallenge",
        srp_claim(&client, "olga", block, &srp_timestamp(-900)),
        "InvalidParameterException",
    )
    .await;

    let unknown_block = unknown["ChallengeParameters"]["SECRET_BLOCK"]
        .as_str()
        .unwrap();
    let (status, body, _) = call(
        &issuer,
        "RespondToAuthChallenge",
        srp_claim(&client, "nobody", unknown_block, &srp_timestamp(0)),
    )
    .await;
    is_not_authorized(status, &body, "Incorrect username or password.");

    // A client without ALLOW_USER_SRP_AUTH refuses the flow.
    let (password_only, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let message = fails(
        &issuer,
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": password_only, "AuthParameters": {"USERNAME": "olga", "SRP_A": "ab"}}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(message, "USER_SRP_AUTH flow not enabled for this client");
}

#[tokio::test]
async fn get_user_needs_the_admin_scope_and_a_live_token() {
    let issuer = empty_issuer().await;
    let (pool, _) = setup(&issuer).await;
    let got = issuer
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "olga"}),
        )
        .unwrap();
    let sub = got["UserAttributes"][0]["Value"]
        .as_str()
        .unwrap()
        .to_string();
    let token = |scope: &str| {
        issuer
            .user_pool(&pool)
            .token()
            .claim("username", json!("olga"))
            .claim("sub", json!(sub))
            .scope(scope)
    };
    let (status, body) = get_user(&issuer, &token("openid").mint()).await;
    is_not_authorized(status, &body, "Access Token does not have required scopes");
    let (status, body) = get_user(&issuer, &token("aws.cognito.signin.user.admin").mint()).await;
    assert_eq!(
        (status, body["Username"].as_str()),
        (200, Some("olga")),
        "{body}"
    );
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    let expired = token("aws.cognito.signin.user.admin")
        .issued_at(old)
        .expires_in(Duration::from_secs(60))
        .mint();
    let (status, body) = get_user(&issuer, &expired).await;
    is_not_authorized(status, &body, "Access Token has expired");
}

#[tokio::test]
async fn a_deleted_user_s_tokens_stop_working() {
    let issuer = empty_issuer().await;
    let (pool, client) = setup(&issuer).await;
    let result = signed_in(&issuer, &client, "olga").await;
    ok(
        &issuer,
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "olga"}),
    )
    .await;
    let (status, body) = get_user(&issuer, result["AccessToken"].as_str().unwrap()).await;
    is_not_authorized(status, &body, "Access Token has been revoked");
    let (status, body) = refresh(&issuer, &client, result["RefreshToken"].as_str().unwrap()).await;
    is_not_authorized(status, &body, "Invalid Refresh Token");
    // RESEND is for users waiting for their first sign-in only.
    confirmed_user(
        &issuer,
        &pool,
        "walt",
        GOOD_PASSWORD,
        json!([{"Name": "phone_number", "Value": "+15555550100"}]),
    );
    fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "walt", "MessageAction": "RESEND"}),
        "UnsupportedUserStateException",
    )
    .await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "xena", "DesiredDeliveryMediums": ["SMS"],
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550101"}, {"Name": "email", "Value": "x@example.com"}]}),
    )
    .await;
    let (_, messages) = outbox(&issuer, &pool).await;
    assert_eq!(
        messages["Messages"][0]["destination"], "+15555550101",
        "SMS goes to the phone"
    );
}

#[tokio::test]
async fn the_admin_variants_answer_challenges_and_refresh() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &FLOWS, false).await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "yara", "TemporaryPassword": "Temp-pass1", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let challenge = ok(
        &issuer,
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "yara", "PASSWORD": "Temp-pass1"}}),
    )
    .await;
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let respond = json!({"UserPoolId": pool, "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": challenge["Session"], "ChallengeResponses": {"USERNAME": "yara", "NEW_PASSWORD": GOOD_PASSWORD}});
    let mut elsewhere = respond.clone();
    elsewhere["UserPoolId"] = json!("eu-west-2_elsewhere");
    fails(
        &issuer,
        "AdminRespondToAuthChallenge",
        elsewhere,
        "ResourceNotFoundException",
    )
    .await;
    let out = ok(&issuer, "AdminRespondToAuthChallenge", respond).await;
    let refresh_token = out["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap();
    let refreshed = ok(
        &issuer,
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": refresh_token}}),
    )
    .await;
    assert!(refreshed["AuthenticationResult"]["AccessToken"].is_string());
    // USER_PASSWORD_AUTH is InitiateAuth's, not the administrator's.
    let message = fails(
        &issuer,
        "AdminInitiateAuth",
        json!({"UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "yara", "PASSWORD": GOOD_PASSWORD}}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(message, "Initiate Auth method not supported.");
}
