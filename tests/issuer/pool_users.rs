//! `UserPool::create_user` and its siblings: the pool's password policy,
//! `UsernameExistsException`, groups in tokens.

use super::hosted_support::*;
use super::*;

#[tokio::test]
async fn create_user_applies_the_policy_and_refuses_a_taken_name() {
    let issuer = scopegate::local::LocalIssuer::start().await.unwrap();
    let pool = issuer.pool();
    let weak = pool.create_user("erin", "password", &[]).unwrap_err();
    assert_eq!(weak.kind(), "InvalidPasswordException");
    assert!(
        weak.message()
            .starts_with("Password did not conform with policy")
    );
    pool.create_user("erin", PASSWORD, &[("email", "erin@example.com")])
        .unwrap();
    let taken = pool.create_user("erin", PASSWORD, &[]).unwrap_err();
    assert_eq!(taken.kind(), "UsernameExistsException");
    let temporary = pool
        .create_user_with_temporary_password("erin", PASSWORD, &[])
        .unwrap_err();
    assert_eq!(temporary.kind(), "UsernameExistsException");
    assert_eq!(
        pool.create_user("has space", PASSWORD, &[])
            .unwrap_err()
            .kind(),
        "InvalidParameterException"
    );
    assert_eq!(
        pool.create_user("frank", PASSWORD, &[("sub", "x")])
            .unwrap_err()
            .kind(),
        "InvalidParameterException"
    );
    assert_eq!(
        pool.add_user_to_group("nobody", "editors")
            .unwrap_err()
            .kind(),
        "UserNotFoundException"
    );
}

#[tokio::test]
async fn groups_added_in_process_are_in_the_tokens() {
    let h = hosted().await;
    h.pool.add_user_to_group("alice", "admins").unwrap();
    let tokens = public_tokens(&h).await;
    let access = claims_of(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["cognito:groups"], json!(["admins", "editors"]));
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:groups"], json!(["admins", "editors"]));
}
