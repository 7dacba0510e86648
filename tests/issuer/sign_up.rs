//! Self-service sign-up: SignUp, ConfirmSignUp (codes from the outbox),
//! ResendConfirmationCode, AdminConfirmSignUp, and the client's secret hash.

use super::*;

async fn latest_code(issuer: &LocalIssuer, pool: &str) -> String {
    let (status, body) = outbox(issuer, pool).await;
    assert_eq!(status, 200);
    let code = body["Messages"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    code
}

fn sign_up_input(client: &str, name: &str) -> Value {
    json!({"ClientId": client, "Username": name, "Password": GOOD_PASSWORD,
           "UserAttributes": [{"Name": "email", "Value": format!("{name}@example.com")}]})
}

#[tokio::test]
async fn sign_up_then_confirm_with_the_code_from_the_outbox() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let out = ok(&issuer, "SignUp", sign_up_input(&client, "hana")).await;
    assert_eq!(out["UserConfirmed"], false);
    assert_eq!(out["UserSub"].as_str().unwrap().len(), 36);
    assert_eq!(
        out["CodeDeliveryDetails"],
        json!({"Destination": "h***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    assert!(!out.to_string().contains(GOOD_PASSWORD));
    let message = fails(
        &issuer,
        "SignUp",
        sign_up_input(&client, "hana"),
        "UsernameExistsException",
    )
    .await;
    assert_eq!(message, "User already exists");
    let mut weak = sign_up_input(&client, "ivan");
    weak["Password"] = json!("weak");
    fails(&issuer, "SignUp", weak, "InvalidPasswordException").await;

    let got = issuer
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "hana"}),
        )
        .unwrap();
    assert_eq!(got["UserStatus"], "UNCONFIRMED");
    let (status, body, _) = password_auth(&issuer, &client, "hana", GOOD_PASSWORD).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UserNotConfirmedException"))
    );

    let code = latest_code(&issuer, &pool).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm =
        |code: &str| json!({"ClientId": client, "Username": "hana", "ConfirmationCode": code});
    fails(
        &issuer,
        "ConfirmSignUp",
        confirm(wrong),
        "CodeMismatchException",
    )
    .await;
    ok(&issuer, "ConfirmSignUp", confirm(&code)).await;
    let got = issuer
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "hana"}),
        )
        .unwrap();
    assert_eq!(got["UserStatus"], "CONFIRMED");
    let verified = got["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == "email_verified")
        .unwrap()
        .clone();
    assert_eq!(verified["Value"], "true", "the code went to the address");
    let message = fails(
        &issuer,
        "ConfirmSignUp",
        confirm(&code),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(
        message,
        "User cannot be confirmed. Current status is CONFIRMED"
    );
    fails(
        &issuer,
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "hana"}),
        "InvalidParameterException",
    )
    .await;
    fails(
        &issuer,
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "nobody", "ConfirmationCode": "123456"}),
        "UserNotFoundException",
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "hana", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["AuthenticationResult"]["AccessToken"].is_string());
}

#[tokio::test]
async fn a_resent_code_replaces_the_old_one_and_wrong_codes_are_limited() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &[], false).await;
    ok(&issuer, "SignUp", sign_up_input(&client, "jo")).await;
    let first = latest_code(&issuer, &pool).await;
    let out = ok(
        &issuer,
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "jo"}),
    )
    .await;
    assert_eq!(out["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    let second = latest_code(&issuer, &pool).await;
    let confirm =
        |code: &str| json!({"ClientId": client, "Username": "jo", "ConfirmationCode": code});
    if first != second {
        fails(
            &issuer,
            "ConfirmSignUp",
            confirm(&first),
            "CodeMismatchException",
        )
        .await;
    }
    let wrong = if second == "999999" {
        "999998"
    } else {
        "999999"
    };
    let mut mismatches = 0;
    while fails_with(&issuer, confirm(wrong)).await == "CodeMismatchException" {
        mismatches += 1;
        assert!(mismatches <= 6, "wrong codes are limited");
    }
    assert!(mismatches >= 4, "{mismatches} wrong codes before the limit");
    // Past the limit even the right code is refused.
    let message = fails(
        &issuer,
        "ConfirmSignUp",
        confirm(&second),
        "LimitExceededException",
    )
    .await;
    assert_eq!(
        message,
        "Attempt limit exceeded, please try after some time."
    );
}

async fn fails_with(issuer: &LocalIssuer, input: Value) -> String {
    let (status, body, _) = call(issuer, "ConfirmSignUp", input).await;
    assert_eq!(status, 400);
    body["__type"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_confirm_sign_up_confirms_once() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, _) = app_client(&issuer, &pool, &[], false).await;
    ok(&issuer, "SignUp", sign_up_input(&client, "kim")).await;
    ok(
        &issuer,
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "kim"}),
    )
    .await;
    fails(
        &issuer,
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "kim"}),
        "NotAuthorizedException",
    )
    .await;
    fails(
        &issuer,
        "AdminConfirmSignUp",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn a_client_with_a_secret_needs_the_secret_hash_to_sign_up() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let (client, secret) = app_client(&issuer, &pool, &[], true).await;
    let secret = secret.unwrap();
    let message = fails(
        &issuer,
        "SignUp",
        sign_up_input(&client, "lee"),
        "NotAuthorizedException",
    )
    .await;
    assert_eq!(
        message,
        format!("Client {client} is configured for secret but secret was not received")
    );
    let mut wrong = sign_up_input(&client, "lee");
    wrong["SecretHash"] = json!(secret_hash(&secret, "someone-else", &client));
    let message = fails(&issuer, "SignUp", wrong, "NotAuthorizedException").await;
    assert_eq!(
        message,
        format!("Unable to verify secret hash for client {client}")
    );
    let mut right = sign_up_input(&client, "lee");
    right["SecretHash"] = json!(secret_hash(&secret, "lee", &client));
    ok(&issuer, "SignUp", right).await;
    fails(&issuer, "SignUp", json!({"ClientId": "nosuchclient0000000000000", "Username": "x", "Password": GOOD_PASSWORD}), "ResourceNotFoundException").await;
}

#[tokio::test]
async fn a_pool_with_email_as_user_name_names_users_by_their_sub() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({"UsernameAttributes": ["email"]})).await;
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let out = ok(
        &issuer,
        "SignUp",
        json!({"ClientId": client, "Username": "yan@example.com", "Password": GOOD_PASSWORD}),
    )
    .await;
    let sub = out["UserSub"].as_str().unwrap().to_string();
    let got = ok(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "yan@example.com"}),
    )
    .await;
    assert_eq!(got["Username"], sub.as_str(), "the user name is the sub");
    assert!(
        got["UserAttributes"]
            .to_string()
            .contains("yan@example.com")
    );
    let message = fails(
        &issuer,
        "SignUp",
        json!({"ClientId": client, "Username": "yan@example.com", "Password": GOOD_PASSWORD}),
        "UsernameExistsException",
    )
    .await;
    assert_eq!(message, "An account with the given email already exists.");
    let message = fails(
        &issuer,
        "SignUp",
        json!({"ClientId": client, "Username": "plainname", "Password": GOOD_PASSWORD}),
        "InvalidParameterException",
    )
    .await;
    assert_eq!(message, "Username should be an email.");

    let code = latest_code(&issuer, &pool).await;
    ok(
        &issuer,
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "yan@example.com", "ConfirmationCode": code}),
    )
    .await;
    let (status, body, _) = password_auth(&issuer, &client, "YAN@example.com", GOOD_PASSWORD).await;
    assert_eq!(status, 200, "signs in by e-mail address, any case: {body}");
    let access = claims_of(
        body["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(access["username"], sub.as_str());
    assert_eq!(access["sub"], sub.as_str());
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "zed@example.com", "MessageAction": "SUPPRESS"}),
    )
    .await;
    fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "zed@example.com", "MessageAction": "SUPPRESS"}),
        "UsernameExistsException",
    )
    .await;
}
