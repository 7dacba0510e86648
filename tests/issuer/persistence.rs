//! The state file: what survives a restart, and what a bad or failed write does.

use super::*;

/// A local issuer with no default pool, keeping its state in `path`.
async fn issuer_with_state(path: &std::path::Path) -> LocalIssuer {
    LocalIssuer::builder()
        .without_default_pool()
        .state_file(path)
        .start()
        .await
        .expect("the issuer starts with a readable (or absent) state file")
}

#[tokio::test]
async fn state_survives_a_restart_keys_included() {
    let dir = temp_dir("persist");
    let path = dir.join("state.json");
    let (pool, id, secret, jwks) = {
        let issuer = issuer_with_state(&path).await;
        let pool = new_pool(&issuer).await;
        photo_server(&issuer, &pool, &["photos.read"]).await;
        let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
        let jwks = issuer.user_pool(&pool).jwks();
        (pool, id, secret, jwks)
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the state file holds private keys");
    }
    let issuer = issuer_with_state(&path).await;
    assert_eq!(
        issuer.user_pool(&pool).jwks(),
        jwks,
        "the same keys after a restart"
    );
    ok(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "https://photos.example.com"}),
    )
    .await;
    assert_eq!(
        scope_of(&issuer, &id, &secret, &[]).await.as_deref(),
        Some(READ_FULL)
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
}

#[tokio::test]
async fn a_corrupt_or_unreadable_state_file_is_a_startup_error() {
    let dir = temp_dir("corrupt");
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&corrupt, b"{\"format\": 1, \"pools\": [").unwrap();
    let err = LocalIssuer::builder()
        .state_file(&corrupt)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("corrupt.json"), "{err}");
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        b"{\"format\": 1, \"pools\": [",
        "left untouched"
    );
    // A directory where the file should be.
    let err = LocalIssuer::builder()
        .state_file(&dir)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be read"), "{err}");
}

#[tokio::test]
async fn a_failed_save_changes_nothing() {
    let dir = temp_dir("rollback");
    let path = dir.join("sub").join("state.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let issuer = issuer_with_state(&path).await;
    let pool = new_pool(&issuer).await;
    // The state directory disappears: the next save fails.
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    let (status, body, _) = call(
        &issuer,
        "CreateResourceServer",
        json!({"UserPoolId": pool, "Identifier": "urn:x", "Name": "X"}),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["__type"], "InternalErrorException");
    fails(
        &issuer,
        "DescribeResourceServer",
        json!({"UserPoolId": pool, "Identifier": "urn:x"}),
        "ResourceNotFoundException",
    )
    .await;
    // A state path that cannot be written is a startup error.
    let err = LocalIssuer::builder()
        .state_file(dir.join("missing").join("s.json"))
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not be saved"), "{err}");
}

#[tokio::test]
async fn key_retirement_survives_a_restart() {
    let dir = temp_dir("retire");
    let path = dir.join("state.json");
    let (pool, old, new) = {
        let issuer = issuer_with_state(&path).await;
        let pool = issuer.create_user_pool("P").unwrap();
        let old = pool.signing_kid();
        let new = pool.rotate(Some(Duration::from_millis(800))).unwrap();
        (pool.id().to_string(), old, new)
    };
    let issuer = issuer_with_state(&path).await;
    assert_eq!(issuer.user_pool(&pool).kids(), vec![old, new.clone()]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(issuer.user_pool(&pool).kids(), vec![new]);
}

/// Rewrites every user's member `member` to `value` in a state file.
fn edit_users(path: &std::path::Path, member: &str, value: Value) {
    let mut state: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    for pool in state["pools"].as_array_mut().unwrap() {
        for user in pool["directory"]["users"].as_array_mut().unwrap() {
            user[member] = value.clone();
        }
    }
    std::fs::write(path, serde_json::to_vec(&state).unwrap()).unwrap();
}

#[tokio::test]
async fn users_groups_and_refresh_tokens_survive_a_restart_without_secrets_in_the_file() {
    let dir = temp_dir("users-persist");
    let path = dir.join("state.json");
    let (pool, client, refresh_token, temporary) = {
        let issuer = issuer_with_state(&path).await;
        let pool = users_pool(
            &issuer,
            json!({"Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": true}},
                                          "UsernameConfiguration": {"CaseSensitive": false}}),
        )
        .await;
        let (client, _) = app_client(
            &issuer,
            &pool,
            &["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            false,
        )
        .await;
        confirmed_user(
            &issuer,
            &pool,
            "tess",
            "Long-enough-pw1",
            json!([{"Name": "email", "Value": "tess@example.com"}]),
        );
        ok(
            &issuer,
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": "crew"}),
        )
        .await;
        ok(
            &issuer,
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": "tess", "GroupName": "crew"}),
        )
        .await;
        let (status, body, _) = password_auth(&issuer, &client, "tess", "Long-enough-pw1").await;
        assert_eq!(status, 200, "{body}");
        let refresh_token = body["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &issuer,
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": "uma"}),
        )
        .await;
        let (_, messages) = outbox(&issuer, &pool).await;
        let temporary = messages["Messages"][0]["temporaryPassword"]
            .as_str()
            .unwrap()
            .to_string();
        issuer.shutdown();
        (pool, client, refresh_token, temporary)
    };
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in [
        "Long-enough-pw1",
        temporary.as_str(),
        refresh_token.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "the state file holds a secret in plaintext"
        );
    }
    assert!(text.contains("tess@example.com"), "the users are in it");

    {
        let issuer = issuer_with_state(&path).await;
        let described = ok(&issuer, "DescribeUserPool", json!({"UserPoolId": pool})).await;
        assert_eq!(
            described["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"],
            12
        );
        assert_eq!(described["UserPool"]["EstimatedNumberOfUsers"], 2);
        assert_eq!(
            described["UserPool"]["UsernameConfiguration"],
            json!({"CaseSensitive": false})
        );
        let got = ok(
            &issuer,
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": "TESS"}),
        )
        .await;
        assert_eq!(got["Username"], "tess", "still case-insensitive");
        let groups = ok(
            &issuer,
            "AdminListGroupsForUser",
            json!({"UserPoolId": pool, "Username": "tess"}),
        )
        .await;
        assert_eq!(groups["Groups"][0]["GroupName"], "crew");
        let out = ok(
            &issuer,
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client, "AuthParameters": {"REFRESH_TOKEN": refresh_token}}),
        )
        .await;
        let access = claims_of(out["AuthenticationResult"]["AccessToken"].as_str().unwrap());
        assert_eq!(access["cognito:groups"], json!(["crew"]));
        let (status, body, _) = password_auth(&issuer, &client, "tess", "Long-enough-pw1").await;
        assert_eq!(status, 200, "the password hash survives: {body}");
        let (status, body, _) = password_auth(&issuer, &client, "uma", &temporary).await;
        assert_eq!(
            (status, body["ChallengeName"].as_str()),
            (200, Some("NEW_PASSWORD_REQUIRED"))
        );
        ok(
            &issuer,
            "SignUp",
            json!({"ClientId": client, "Username": "vic", "Password": "Long-enough-pw1"}),
        )
        .await;
        issuer.shutdown();
    }

    // Expired codes and temporary passwords (written into the file: no
    // sleeping for a day).
    edit_users(&path, "temporary_password_expires", json!(1.0));
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for user in state["pools"][0]["directory"]["users"]
        .as_array_mut()
        .unwrap()
    {
        if let Some(code) = user["confirmation_code"].as_array_mut() {
            code[1] = json!(1.0);
        }
    }
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let issuer = issuer_with_state(&path).await;
    let (status, body, _) = password_auth(&issuer, &client, "uma", &temporary).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Temporary password has expired and must be reset by an administrator."
    );
    let code = state["pools"][0]["directory"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "vic")
        .unwrap()["confirmation_code"][0]
        .as_str()
        .unwrap()
        .to_string();
    let message = fails(
        &issuer,
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "vic", "ConfirmationCode": code}),
        "ExpiredCodeException",
    )
    .await;
    assert_eq!(
        message,
        "Invalid code provided, please request a code again."
    );
}
