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
