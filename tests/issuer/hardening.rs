//! The security review's findings on the users and sign-in half, each
//! refused over HTTP: self-written read-only attributes, SRP answers that
//! tell who exists, lockouts outrun by parallel guesses, unverified or
//! shared aliases, refreshes that change a sign-in's scopes, parallel
//! confirmation-code guesses, and the per-user cap on refresh tokens.

use std::sync::Arc;

use super::hosted_support::*;
use super::*;

const UNAUTHORIZED_ATTRIBUTE: &str = "A client attempted to write unauthorized attribute";

fn sign_up(client: &str, name: &str, attributes: Value) -> Value {
    json!({"ClientId": client, "Username": name, "Password": GOOD_PASSWORD,
           "UserAttributes": attributes})
}

#[tokio::test]
async fn sign_up_refuses_attributes_the_client_may_not_write() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let email = json!({"Name": "email", "Value": "hana@example.com"});
    for forbidden in [
        json!({"Name": "email_verified", "Value": "true"}),
        json!({"Name": "phone_number_verified", "Value": "true"}),
        json!({"Name": "identities", "Value": "[]"}),
        // Without WriteAttributes, only standard attributes are writable.
        json!({"Name": "custom:tenant", "Value": "t1"}),
    ] {
        let input = sign_up(&client, "hana", json!([email, forbidden]));
        let message = fails(&issuer, "SignUp", input, "NotAuthorizedException").await;
        assert_eq!(message, UNAUTHORIZED_ATTRIBUTE);
    }
    // A client's WriteAttributes are what its users may write, and never
    // the verification flags.
    let listed = ok(
        &issuer,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "listed",
               "WriteAttributes": ["email", "custom:tenant", "email_verified"]}),
    )
    .await;
    let listed = listed["UserPoolClient"]["ClientId"].as_str().unwrap();
    let tenant = json!({"Name": "custom:tenant", "Value": "t1"});
    ok(
        &issuer,
        "SignUp",
        sign_up(listed, "hana", json!([email, tenant])),
    )
    .await;
    let name = json!({"Name": "name", "Value": "Hana"});
    let message = fails(
        &issuer,
        "SignUp",
        sign_up(listed, "ivan", json!([name])),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(message, UNAUTHORIZED_ATTRIBUTE);
    let verified = json!({"Name": "email_verified", "Value": "true"});
    let message = fails(
        &issuer,
        "SignUp",
        sign_up(listed, "ivan", json!([email, verified])),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(message, UNAUTHORIZED_ATTRIBUTE);
    // Nothing was created by the refused calls.
    fails(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ivan"}),
        "UserNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn the_new_password_answer_cannot_verify_the_users_own_e_mail() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "olga", "TemporaryPassword": "Tempor4ry-pass",
               "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "olga@example.com"}]}),
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "olga", "Tempor4ry-pass").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let session = body["Session"].as_str().unwrap();
    let answer = |extra: Value| {
        let mut responses = json!({"USERNAME": "olga", "NEW_PASSWORD": GOOD_PASSWORD});
        for (k, v) in extra.as_object().unwrap() {
            responses[k] = v.clone();
        }
        json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": session, "ChallengeResponses": responses})
    };
    let message = fails(
        &issuer,
        "RespondToAuthChallenge",
        answer(json!({"userAttributes.email_verified": "true"})),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(message, UNAUTHORIZED_ATTRIBUTE);
    // The session is still usable; a writable attribute is accepted.
    let out = ok(
        &issuer,
        "RespondToAuthChallenge",
        answer(json!({"userAttributes.name": "Olga"})),
    )
    .await;
    let id = claims_of(out["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["name"], "Olga");
    assert_ne!(id["email_verified"], true);
}

async fn srp_params(issuer: &LocalIssuer, client: &str, user: &str) -> Value {
    let out = ok(
        issuer,
        "InitiateAuth",
        json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": client,
               "AuthParameters": {"USERNAME": user, "SRP_A": "abcdef0123456789"}}),
    )
    .await;
    out["ChallengeParameters"].clone()
}

fn is_uuid(text: &Value) -> bool {
    let text = text.as_str().unwrap();
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn an_unknown_users_srp_challenge_is_stable_and_shaped_like_a_known_users() {
    let issuer = empty_issuer().await;
    let pool = users_pool(
        &issuer,
        json!({"UsernameConfiguration": {"CaseSensitive": false}}),
    )
    .await;
    let (client, _) = app_client(&issuer, &pool, &[], false).await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    let known = srp_params(&issuer, &client, "OLGA").await;
    let first = srp_params(&issuer, &client, "NoBody").await;
    let second = srp_params(&issuer, &client, "nobody").await;
    assert_eq!(known["USER_ID_FOR_SRP"], "olga");
    // An unknown name is given back as the pool stores names.
    for params in [&first, &second] {
        assert_eq!(params["USERNAME"], "nobody");
        assert_eq!(params["USER_ID_FOR_SRP"], "nobody");
    }
    // The same salt every time, as a real user's; B is fresh every time.
    assert_eq!(first["SALT"], second["SALT"]);
    assert_ne!(first["SRP_B"], second["SRP_B"]);
    assert_eq!(
        known["SALT"],
        srp_params(&issuer, &client, "olga").await["SALT"]
    );
    let salt_len = |p: &Value| p["SALT"].as_str().unwrap().len();
    assert!((28..=32).contains(&salt_len(&first)), "{first}");
    assert!((28..=32).contains(&salt_len(&known)), "{known}");

    // A pool signing in by e-mail names its users by UUID: so does the
    // challenge of an unknown address, the same UUID every time.
    let by_email = users_pool(&issuer, json!({"UsernameAttributes": ["email"]})).await;
    let (client, _) = app_client(&issuer, &by_email, &[], false).await;
    confirmed_user(
        &issuer,
        &by_email,
        "pia@example.com",
        GOOD_PASSWORD,
        json!([]),
    );
    let known = srp_params(&issuer, &client, "pia@example.com").await;
    let first = srp_params(&issuer, &client, "nobody@example.com").await;
    let second = srp_params(&issuer, &client, "nobody@example.com").await;
    assert!(is_uuid(&known["USER_ID_FOR_SRP"]), "{known}");
    assert!(is_uuid(&first["USER_ID_FOR_SRP"]), "{first}");
    assert_eq!(first["USER_ID_FOR_SRP"], second["USER_ID_FOR_SRP"]);
    assert_eq!(first["SALT"], second["SALT"]);
}

/// Sends `n` InitiateAuth calls at once (each on its own task) and counts
/// the answers by message.
async fn parallel_sign_ins(
    issuer: &Arc<LocalIssuer>,
    client: &str,
    user: &str,
    n: usize,
) -> (usize, usize) {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (issuer, client, user) = (Arc::clone(issuer), client.to_string(), user.to_string());
            tokio::spawn(async move {
                let (status, body, _) =
                    password_auth(&issuer, &client, &user, "Wrong-passw0rd").await;
                assert_eq!(status, 400, "{body}");
                body["message"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let count = |message: &str| answers.iter().filter(|a| *a == message).count();
    let counts = (
        count("Incorrect username or password."),
        count("Password attempts exceeded"),
    );
    assert_eq!(counts.0 + counts.1, n, "{answers:?}");
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_cannot_exceed_the_lockout_allowance() {
    let issuer = Arc::new(empty_issuer().await);
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    // Five free failures, and the sixth that starts the wait: six checked
    // guesses at most, however many arrive together.
    let (wrong, exceeded) = parallel_sign_ins(&issuer, &client, "olga", 24).await;
    assert_eq!((wrong, exceeded), (6, 18));
    // An unknown user is throttled the same way.
    let (wrong, exceeded) = parallel_sign_ins(&issuer, &client, "nobody", 24).await;
    assert_eq!((wrong, exceeded), (6, 18));
}

#[tokio::test]
async fn an_unknown_users_lockout_ignores_case_as_a_real_users_does() {
    let issuer = empty_issuer().await;
    let pool = users_pool(
        &issuer,
        json!({"UsernameConfiguration": {"CaseSensitive": false}}),
    )
    .await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    for (guessed, other_case) in [("olga", "OLGA"), ("nobody", "NOBODY")] {
        for _ in 0..6 {
            let (_, body, _) = password_auth(&issuer, &client, guessed, "Wrong-passw0rd").await;
            assert_eq!(body["message"], "Incorrect username or password.");
        }
        let (_, body, _) = password_auth(&issuer, &client, other_case, "Wrong-passw0rd").await;
        assert_eq!(
            body["message"], "Password attempts exceeded",
            "{other_case}"
        );
    }
}

#[tokio::test]
async fn only_a_verified_alias_signs_in_and_a_verified_alias_belongs_to_one_user() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({"AliasAttributes": ["email"]})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let email = json!({"Name": "email", "Value": "olga@example.com"});
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([email]));
    let (_, body, _) = password_auth(&issuer, &client, "olga@example.com", GOOD_PASSWORD).await;
    assert_eq!(body["message"], "Incorrect username or password.", "{body}");
    ok(
        &issuer,
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "olga",
               "UserAttributes": [{"Name": "email_verified", "Value": "true"}]}),
    )
    .await;
    let (status, body, _) =
        password_auth(&issuer, &client, "olga@example.com", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");

    // Another user may not hold the same verified address.
    let verified = json!({"Name": "email_verified", "Value": "true"});
    fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "pia", "MessageAction": "SUPPRESS",
               "UserAttributes": [email, verified]}),
        "AliasExistsException",
    )
    .await;
    // Signing up with it is fine (unverified); confirming it is refused,
    // unless ForceAliasCreation moves the alias to the new user.
    ok(&issuer, "SignUp", sign_up(&client, "quinn", json!([email]))).await;
    let (_, messages) = outbox(&issuer, &pool).await;
    let code = messages["Messages"][0]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let confirm = json!({"ClientId": client, "Username": "quinn", "ConfirmationCode": code});
    let message = fails(
        &issuer,
        "ConfirmSignUp",
        confirm.clone(),
        "AliasExistsException",
    )
    .await;
    assert_eq!(message, "An account with the email already exists.");
    let mut forced = confirm;
    forced["ForceAliasCreation"] = json!(true);
    ok(&issuer, "ConfirmSignUp", forced).await;
    let (status, body, _) =
        password_auth(&issuer, &client, "olga@example.com", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let access = claims_of(
        body["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(access["username"], "quinn");
}

/// Tokens of the hosted sign-in bound to the photo API (`resource`).
async fn tokens_for_the_photo_api(h: &Hosted) -> Value {
    let mut browser = Browser::new(&h.issuer);
    let challenge = challenge(VERIFIER);
    let mut query = code_query(&h.public, &challenge);
    query.push(("resource", "https://photos.example.com"));
    let page = browser.sign_in(&query, "alice", PASSWORD).await;
    let code = page.param("code").unwrap();
    let (status, body) =
        redeem_public(h, &code, &[("resource", "https://photos.example.com")]).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn refreshing_a_hosted_sign_in_through_the_api_keeps_its_scopes_and_audience() {
    let h = hosted().await;
    let first = tokens_for_the_photo_api(&h).await;
    let original = claims_of(first["access_token"].as_str().unwrap());
    assert_eq!(original["aud"], "https://photos.example.com");
    let token = first["refresh_token"].as_str().unwrap();
    let by_initiate = ok(
        &h.issuer,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": h.public,
               "AuthParameters": {"REFRESH_TOKEN": token}}),
    )
    .await;
    let by_get_tokens = ok(
        &h.issuer,
        "GetTokensFromRefreshToken",
        json!({"ClientId": h.public, "RefreshToken": token}),
    )
    .await;
    for out in [by_initiate, by_get_tokens] {
        let access = claims_of(out["AuthenticationResult"]["AccessToken"].as_str().unwrap());
        assert_eq!(access["scope"], original["scope"], "{access}");
        assert_eq!(access["aud"], original["aud"], "{access}");
        assert!(
            !access["scope"]
                .as_str()
                .unwrap()
                .contains("aws.cognito.signin.user.admin")
        );
        assert_eq!(access["origin_jti"], original["origin_jti"]);
    }
    // Such a token cannot call the user's own APIs (GetUser).
    let refreshed = ok(
        &h.issuer,
        "InitiateAuth",
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": h.public,
               "AuthParameters": {"REFRESH_TOKEN": token}}),
    )
    .await;
    let access = refreshed["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    fails(
        &h.issuer,
        "GetUser",
        json!({"AccessToken": access}),
        "NotAuthorizedException",
    )
    .await;
}

#[tokio::test]
async fn get_tokens_from_refresh_token_needs_allow_refresh_token_auth() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    let (status, body, _) = password_auth(&issuer, &client, "olga", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap();
    let message = fails(
        &issuer,
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(
        message,
        "REFRESH_TOKEN_AUTH flow not enabled for this client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_confirmation_codes_cannot_exceed_the_attempt_limit() {
    // A state file, and saved changes running alongside, keep the state
    // lock busy: the guesses queue behind it, as on a loaded issuer.
    let dir = temp_dir("code-race");
    let issuer = LocalIssuer::builder()
        .without_default_pool()
        .state_file(dir.join("state.json"))
        .start()
        .await
        .unwrap();
    let issuer = Arc::new(issuer);
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let email = json!({"Name": "email", "Value": "hana@example.com"});
    ok(&issuer, "SignUp", sign_up(&client, "hana", json!([email]))).await;
    let (_, messages) = outbox(&issuer, &pool).await;
    let code = messages["Messages"][0]["code"].as_str().unwrap();
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    let busy: Vec<_> = (0..40)
        .map(|i| {
            let (issuer, pool) = (Arc::clone(&issuer), pool.clone());
            tokio::spawn(async move {
                let name = json!({"Name": "name", "Value": format!("Olga {i}")});
                ok(
                    &issuer,
                    "AdminUpdateUserAttributes",
                    json!({"UserPoolId": pool, "Username": "olga", "UserAttributes": [name]}),
                )
                .await
            })
        })
        .collect();
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (issuer, client) = (Arc::clone(&issuer), client.clone());
            tokio::spawn(async move {
                let (_, body, _) = call(
                    &issuer,
                    "ConfirmSignUp",
                    json!({"ClientId": client, "Username": "hana", "ConfirmationCode": wrong_code}),
                )
                .await;
                body["__type"].as_str().unwrap().to_string()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    for task in busy {
        task.await.unwrap();
    }
    let count = |kind: &str| answers.iter().filter(|a| *a == kind).count();
    assert_eq!(
        (
            count("CodeMismatchException"),
            count("LimitExceededException")
        ),
        (5, 35),
        "{answers:?}"
    );
    // The right code is refused too, until the wait is over.
    fails(
        &issuer,
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "hana", "ConfirmationCode": code}),
        "LimitExceededException",
    )
    .await;
}

#[tokio::test]
async fn a_user_keeps_at_most_a_hundred_refresh_tokens_the_oldest_goes_first() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(
        &issuer,
        &pool,
        &["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        false,
    )
    .await;
    confirmed_user(&issuer, &pool, "olga", GOOD_PASSWORD, json!([]));
    let mut tokens = Vec::new();
    for _ in 0..101 {
        let (status, body, _) = password_auth(&issuer, &client, "olga", GOOD_PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let token = body["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .unwrap();
        tokens.push(token.to_string());
    }
    let refresh = |token: &str| {
        json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
               "AuthParameters": {"REFRESH_TOKEN": token}})
    };
    let message = fails(
        &issuer,
        "InitiateAuth",
        refresh(&tokens[0]),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(message, "Invalid Refresh Token");
    ok(&issuer, "InitiateAuth", refresh(&tokens[1])).await;
    ok(&issuer, "InitiateAuth", refresh(&tokens[100])).await;
}

#[tokio::test]
async fn a_new_password_session_does_not_apply_to_a_user_created_again() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let create = json!({"UserPoolId": pool, "Username": "rui", "TemporaryPassword": "Temp-pass1",
                        "MessageAction": "SUPPRESS"});
    ok(&issuer, "AdminCreateUser", create.clone()).await;
    let (status, body, _) = password_auth(&issuer, &client, "rui", "Temp-pass1").await;
    assert_eq!(
        (status, &body["ChallengeName"]),
        (200, &json!("NEW_PASSWORD_REQUIRED"))
    );
    let session = body["Session"].as_str().unwrap().to_string();
    // The user goes, and another one comes under the same name.
    ok(
        &issuer,
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "rui"}),
    )
    .await;
    ok(&issuer, "AdminCreateUser", create).await;
    let answer = json!({"ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                        "ChallengeResponses": {"USERNAME": "rui", "NEW_PASSWORD": GOOD_PASSWORD}});
    fails(
        &issuer,
        "RespondToAuthChallenge",
        answer,
        "NotAuthorizedException",
    )
    .await;
    let user = ok(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "rui"}),
    )
    .await;
    assert_eq!(
        user["UserStatus"], "FORCE_CHANGE_PASSWORD",
        "the new user's password is untouched"
    );
}

#[tokio::test]
async fn an_api_refresh_token_from_before_a_disable_stays_refused_once_enabled_again() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"];
    let (client, _) = app_client(&issuer, &pool, &flows, false).await;
    confirmed_user(&issuer, &pool, "sol", GOOD_PASSWORD, json!([]));
    let (status, body, _) = password_auth(&issuer, &client, "sol", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
                         "AuthParameters": {"REFRESH_TOKEN": token}});
    ok(&issuer, "InitiateAuth", refresh.clone()).await;
    // A disable ends the sign-ins before it (and in its second), as Cognito
    // revokes the user's tokens; enabling the user does not bring them back.
    ok(
        &issuer,
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "sol"}),
    )
    .await;
    ok(
        &issuer,
        "AdminEnableUser",
        json!({"UserPoolId": pool, "Username": "sol"}),
    )
    .await;
    fails(&issuer, "InitiateAuth", refresh, "NotAuthorizedException").await;
    // A new sign-in works again.
    let (status, _, _) = password_auth(&issuer, &client, "sol", GOOD_PASSWORD).await;
    assert_eq!(status, 200);
}
