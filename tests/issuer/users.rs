//! Users managed by an administrator: AdminCreateUser, AdminGetUser,
//! ListUsers (filters, paging), AdminSetUserPassword, attributes, disabling,
//! deleting; the pool's password policy; the outbox.

use super::*;

fn attr<'v>(list: &'v Value, name: &str) -> Option<&'v str> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| a["Value"].as_str().unwrap())
}

#[tokio::test]
async fn admin_create_user_answers_cognitos_user_and_refuses_a_duplicate() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let out = ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "alice", "TemporaryPassword": "Temp-pass1",
               "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}],
               "DesiredDeliveryMediums": ["EMAIL"]}),
    )
    .await;
    let user = &out["User"];
    assert_eq!(user["Username"], "alice");
    assert_eq!(user["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(user["Enabled"], true);
    assert!(user["UserCreateDate"].is_f64() && user["UserLastModifiedDate"].is_f64());
    assert_eq!(
        attr(&user["Attributes"], "email"),
        Some("alice@example.com")
    );
    let sub = attr(&user["Attributes"], "sub").unwrap().to_string();
    assert_eq!(sub.len(), 36);
    assert!(
        !out.to_string().contains("Temp-pass1"),
        "no password in the answer"
    );

    let message = fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
        "UsernameExistsException",
    )
    .await;
    assert_eq!(message, "User account already exists");

    let got = ok(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": sub}),
    )
    .await;
    assert_eq!(got["Username"], "alice", "a sub names the user too");
    assert_eq!(attr(&got["UserAttributes"], "sub"), Some(sub.as_str()));
    let message = fails(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "nobody"}),
        "UserNotFoundException",
    )
    .await;
    assert_eq!(message, "User does not exist.");

    let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": pool})).await;
    assert_eq!(described["UserPool"]["EstimatedNumberOfUsers"], 1);
}

#[tokio::test]
async fn invitations_go_to_the_outbox_unless_suppressed() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "quiet", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "q@example.com"}]}),
    )
    .await;
    let (status, body) = outbox(&issuer, &pool).await;
    assert_eq!(status, 200);
    assert_eq!(body["Messages"], json!([]), "SUPPRESS sends nothing");

    // No TemporaryPassword: one is generated, meeting the policy.
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bob",
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    )
    .await;
    let (_, body) = outbox(&issuer, &pool).await;
    let message = &body["Messages"][0];
    assert_eq!(message["username"], "bob");
    assert_eq!(message["destination"], "bob@example.com");
    assert_eq!(message["reason"], "AdminCreateUser");
    let temporary = message["temporaryPassword"].as_str().unwrap().to_string();
    let (client, _) = app_client(&issuer, &pool, &["ALLOW_USER_PASSWORD_AUTH"], false).await;
    let (status, body, _) = password_auth(&issuer, &client, "bob", &temporary).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ChallengeName"], "NEW_PASSWORD_REQUIRED");

    // RESEND: a new temporary password; the old one no longer works.
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bob", "MessageAction": "RESEND"}),
    )
    .await;
    let (_, body) = outbox(&issuer, &pool).await;
    assert_eq!(
        body["Messages"].as_array().unwrap().len(),
        2,
        "newest first"
    );
    let again = body["Messages"][0]["temporaryPassword"].as_str().unwrap();
    assert_ne!(again, temporary);
    let (status, _, _) = password_auth(&issuer, &client, "bob", &temporary).await;
    assert_eq!(status, 400);
    fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "ghost", "MessageAction": "RESEND"}),
        "UserNotFoundException",
    )
    .await;

    let (status, _) = outbox(&issuer, "eu-west-2_nothere00").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_password_policy_is_kept_described_and_enforced_rule_by_rule() {
    let issuer = empty_issuer().await;
    let policy = json!({"MinimumLength": 10, "RequireUppercase": true, "RequireLowercase": true,
                        "RequireNumbers": true, "RequireSymbols": true, "TemporaryPasswordValidityDays": 3});
    let pool = users_pool(
        &issuer,
        json!({"Policies": {"PasswordPolicy": policy},
        "UsernameConfiguration": {"CaseSensitive": true}, "AutoVerifiedAttributes": ["email"]}),
    )
    .await;
    let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": pool})).await;
    assert_eq!(described["UserPool"]["Policies"]["PasswordPolicy"], policy);
    assert_eq!(
        described["UserPool"]["AutoVerifiedAttributes"],
        json!(["email"])
    );
    assert_eq!(
        described["UserPool"]["UsernameConfiguration"],
        json!({"CaseSensitive": true})
    );
    assert_eq!(described["UserPool"]["EstimatedNumberOfUsers"], 0);
    for (password, rule) in [
        ("Sh0rt-pw", "Password not long enough"),
        ("NOLOWER-CASE-1", "Password must have lowercase characters"),
        ("noupper-case-1", "Password must have uppercase characters"),
        ("No-Numbers-Here", "Password must have numeric characters"),
        ("NoSymbols12345", "Password must have symbol characters"),
    ] {
        let message = fails(
            &issuer,
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": "carol", "TemporaryPassword": password}),
            "InvalidPasswordException",
        )
        .await;
        assert_eq!(
            message,
            format!("Password did not conform with policy: {rule}")
        );
    }
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "carol", "MessageAction": "SUPPRESS"}),
    )
    .await;
    fails(
        &issuer,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "carol", "Password": "short1A!", "Permanent": true}),
        "InvalidPasswordException",
    )
    .await;
    // The policy's own limits.
    for bad in [
        json!({"MinimumLength": 5}),
        json!({"MinimumLength": 100}),
        json!({"TemporaryPasswordValidityDays": 366}),
    ] {
        fails(
            &issuer,
            "CreateUserPool",
            json!({"PoolName": "bad", "Policies": {"PasswordPolicy": bad}}),
            "InvalidParameterException",
        )
        .await;
    }
    // In a given policy, booleans left out are false and 0 days is 7.
    let lenient = users_pool(
        &issuer,
        json!({"Policies": {"PasswordPolicy": {"MinimumLength": 6, "TemporaryPasswordValidityDays": 0}}}),
    )
    .await;
    let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": lenient})).await;
    assert_eq!(
        described["UserPool"]["Policies"]["PasswordPolicy"],
        json!({"MinimumLength": 6, "RequireUppercase": false, "RequireLowercase": false, "RequireNumbers": false,
               "RequireSymbols": false, "TemporaryPasswordValidityDays": 7})
    );
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": lenient, "Username": "dan", "TemporaryPassword": "aaaaaa", "MessageAction": "SUPPRESS"}),
    )
    .await;
    // No policy given: Cognito's default.
    let default = users_pool(&issuer, json!({})).await;
    let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": default})).await;
    assert_eq!(
        described["UserPool"]["Policies"]["PasswordPolicy"],
        json!({"MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true, "RequireNumbers": true,
               "RequireSymbols": true, "TemporaryPasswordValidityDays": 7})
    );
}

#[tokio::test]
async fn admin_set_user_password_sets_the_status() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let status = |issuer: &LocalIssuer, pool: &str| {
        issuer
            .call(
                "AdminGetUser",
                json!({"UserPoolId": pool, "Username": "erin"}),
            )
            .unwrap()["UserStatus"]
            .clone()
    };
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "erin", "MessageAction": "SUPPRESS"}),
    )
    .await;
    ok(
        &issuer,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "erin", "Password": GOOD_PASSWORD, "Permanent": true}),
    )
    .await;
    assert_eq!(status(&issuer, &pool), "CONFIRMED");
    ok(
        &issuer,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "erin", "Password": GOOD_PASSWORD, "Permanent": false}),
    )
    .await;
    assert_eq!(status(&issuer, &pool), "FORCE_CHANGE_PASSWORD");
    fails(
        &issuer,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "nobody", "Password": GOOD_PASSWORD}),
        "UserNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn list_users_filters_pages_and_picks_attributes() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    for (name, email) in [
        ("ann", "ann@example.com"),
        ("anna", "anna@example.org"),
        ("ben", "ben@example.com"),
        ("cat", "cat@example.com"),
        ("dan", "dan@example.net"),
    ] {
        ok(
            &issuer,
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                   "UserAttributes": [{"Name": "email", "Value": email}, {"Name": "given_name", "Value": name.to_uppercase()}]}),
        )
        .await;
    }
    ok(
        &issuer,
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "dan"}),
    )
    .await;
    let names = |out: &Value| -> Vec<String> {
        out["Users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["Username"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |filter: &str| {
        issuer
            .call("ListUsers", json!({"UserPoolId": pool, "Filter": filter}))
            .map(|out| names(&out))
    };
    assert_eq!(list(r#"username = "ann""#).unwrap(), ["ann"]);
    assert_eq!(list(r#"username ^= "ann""#).unwrap(), ["ann", "anna"]);
    assert_eq!(list(r#"email = "ben@example.com""#).unwrap(), ["ben"]);
    assert_eq!(list(r#"email ^= "an""#).unwrap(), ["ann", "anna"]);
    assert_eq!(list(r#"given_name = "CAT""#).unwrap(), ["cat"]);
    assert_eq!(list(r#"status = "Disabled""#).unwrap(), ["dan"]);
    assert_eq!(
        list(r#"cognito:user_status = "FORCE_CHANGE_PASSWORD""#)
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        list(r#"email = "none@example.com""#).unwrap(),
        Vec::<String>::new()
    );
    let ben = issuer
        .call(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "ben"}),
        )
        .unwrap();
    let sub = attr(&ben["UserAttributes"], "sub").unwrap().to_string();
    assert_eq!(list(&format!(r#"sub = "{sub}""#)).unwrap(), ["ben"]);
    for bad in [
        r#"email = ann"#,
        "email",
        r#"email ~ "a""#,
        r#"custom:x = "a""#,
        r#"email = "a" or"#,
    ] {
        let (status, body, _) = call(
            &issuer,
            "ListUsers",
            json!({"UserPoolId": pool, "Filter": bad}),
        )
        .await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (400, Some("InvalidParameterException")),
            "{bad}"
        );
    }

    // Paging, over HTTP, two at a time, with only some attributes.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"UserPoolId": pool, "Limit": 2, "AttributesToGet": ["email"]});
        if let Some(t) = &token {
            input["PaginationToken"] = json!(t);
        }
        let out = ok(&issuer, "ListUsers", input).await;
        assert!(out["Users"].as_array().unwrap().len() <= 2);
        for user in out["Users"].as_array().unwrap() {
            let attrs: Vec<&str> = user["Attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["Name"].as_str().unwrap())
                .collect();
            assert_eq!(attrs, ["email"]);
        }
        seen.extend(names(&out));
        match out["PaginationToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["ann", "anna", "ben", "cat", "dan"]);
    fails(
        &issuer,
        "ListUsers",
        json!({"UserPoolId": pool, "Limit": 61}),
        "InvalidParameterException",
    )
    .await;
    fails(
        &issuer,
        "ListUsers",
        json!({"UserPoolId": pool, "PaginationToken": "%%%"}),
        "InvalidParameterException",
    )
    .await;
}

#[tokio::test]
async fn attributes_update_delete_disable_and_delete_users() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "fay", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "fay@example.com"}, {"Name": "email_verified", "Value": "true"},
                                  {"Name": "custom:tenant", "Value": "t1"}]}),
    )
    .await;
    let get = || {
        issuer
            .call(
                "AdminGetUser",
                json!({"UserPoolId": pool, "Username": "fay"}),
            )
            .unwrap()
    };
    ok(
        &issuer,
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "fay", "UserAttributes": [{"Name": "email", "Value": "fay@example.org"}]}),
    )
    .await;
    let user = get();
    assert_eq!(
        attr(&user["UserAttributes"], "email"),
        Some("fay@example.org")
    );
    assert_eq!(
        attr(&user["UserAttributes"], "email_verified"),
        Some("false"),
        "a new address is unverified"
    );
    ok(
        &issuer,
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "fay", "UserAttributes": [
            {"Name": "email", "Value": "fay@example.net"}, {"Name": "email_verified", "Value": "true"}]}),
    )
    .await;
    assert_eq!(
        attr(&get()["UserAttributes"], "email_verified"),
        Some("true")
    );
    ok(
        &issuer,
        "AdminDeleteUserAttributes",
        json!({"UserPoolId": pool, "Username": "fay", "UserAttributeNames": ["custom:tenant"]}),
    )
    .await;
    assert_eq!(attr(&get()["UserAttributes"], "custom:tenant"), None);
    for bad in [
        json!([{"Name": "sub", "Value": "x"}]),
        json!([{"Name": "favourite_colour", "Value": "x"}]),
        json!([{"Name": "email", "Value": "not an address"}]),
        json!([{"Name": "phone_number", "Value": "0123"}]),
    ] {
        fails(
            &issuer,
            "AdminUpdateUserAttributes",
            json!({"UserPoolId": pool, "Username": "fay", "UserAttributes": bad}),
            "InvalidParameterException",
        )
        .await;
    }
    ok(
        &issuer,
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "fay"}),
    )
    .await;
    assert_eq!(get()["Enabled"], false);
    ok(
        &issuer,
        "AdminEnableUser",
        json!({"UserPoolId": pool, "Username": "fay"}),
    )
    .await;
    assert_eq!(get()["Enabled"], true);
    ok(
        &issuer,
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "fay"}),
    )
    .await;
    let message = fails(
        &issuer,
        "AdminDeleteUser",
        json!({"UserPoolId": pool, "Username": "fay"}),
        "UserNotFoundException",
    )
    .await;
    assert_eq!(message, "User does not exist.");
}

#[tokio::test]
async fn user_names_follow_cognitos_rules_and_the_pools_case_setting() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    for bad in ["", "has space", "tab\there", &"x".repeat(129)] {
        fails(
            &issuer,
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": bad, "MessageAction": "SUPPRESS"}),
            "InvalidParameterException",
        )
        .await;
    }
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "Zoë+1@x", "MessageAction": "SUPPRESS"}),
    )
    .await;
    // Case-sensitive by default (as CreateUserPool without UsernameConfiguration).
    fails(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "ZOË+1@X"}),
        "UserNotFoundException",
    )
    .await;

    let relaxed = users_pool(
        &issuer,
        json!({"UsernameConfiguration": {"CaseSensitive": false}}),
    )
    .await;
    ok(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": relaxed, "Username": "Grace", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let got = ok(
        &issuer,
        "AdminGetUser",
        json!({"UserPoolId": relaxed, "Username": "GRACE"}),
    )
    .await;
    assert_eq!(got["Username"], "grace", "stored in lower case");
    fails(
        &issuer,
        "AdminCreateUser",
        json!({"UserPoolId": relaxed, "Username": "gRACE", "MessageAction": "SUPPRESS"}),
        "UsernameExistsException",
    )
    .await;
}
