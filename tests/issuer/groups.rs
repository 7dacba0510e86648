//! Groups and membership: CreateGroup, GetGroup, ListGroups, UpdateGroup,
//! DeleteGroup, AdminAddUserToGroup, AdminRemoveUserFromGroup,
//! AdminListGroupsForUser, ListUsersInGroup.

use super::*;

fn group_names(out: &Value) -> Vec<String> {
    out["Groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["GroupName"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn groups_are_created_listed_updated_and_deleted() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    let role = "arn:aws:iam::123456789012:role/editors";
    let out = ok(
        &issuer,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "editors", "Description": "Edit things", "Precedence": 1, "RoleArn": role}),
    )
    .await;
    let group = &out["Group"];
    assert_eq!(group["GroupName"], "editors");
    assert_eq!(group["UserPoolId"], pool.as_str());
    assert_eq!(group["Description"], "Edit things");
    assert_eq!(group["Precedence"], 1);
    assert_eq!(group["RoleArn"], role);
    assert!(group["CreationDate"].is_f64());
    let message = fails(
        &issuer,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
        "GroupExistsException",
    )
    .await;
    assert_eq!(message, "A group with the name editors already exists.");
    fails(
        &issuer,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "bad name"}),
        "InvalidParameterException",
    )
    .await;
    fails(
        &issuer,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "neg", "Precedence": -1}),
        "InvalidParameterException",
    )
    .await;
    for name in ["a", "b", "c", "d"] {
        ok(
            &issuer,
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": name}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut input = json!({"UserPoolId": pool, "Limit": 2});
        if let Some(n) = &next {
            input["NextToken"] = json!(n);
        }
        let out = ok(&issuer, "ListGroups", input).await;
        seen.extend(group_names(&out));
        match out["NextToken"].as_str() {
            Some(n) => next = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c", "d", "editors"]);

    let out = ok(
        &issuer,
        "UpdateGroup",
        json!({"UserPoolId": pool, "GroupName": "editors", "Description": "New"}),
    )
    .await;
    assert_eq!(out["Group"]["Description"], "New");
    assert_eq!(out["Group"]["Precedence"], 1, "left out: kept");
    let got = ok(
        &issuer,
        "GetGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
    )
    .await;
    assert_eq!(got["Group"]["Description"], "New");
    ok(
        &issuer,
        "DeleteGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
    )
    .await;
    let message = fails(
        &issuer,
        "GetGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(message, "Group not found.");
    fails(
        &issuer,
        "DeleteGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
        "ResourceNotFoundException",
    )
    .await;
    fails(
        &issuer,
        "UpdateGroup",
        json!({"UserPoolId": pool, "GroupName": "editors"}),
        "ResourceNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn membership_is_added_listed_both_ways_and_removed() {
    let issuer = empty_issuer().await;
    let pool = users_pool(&issuer, json!({})).await;
    for name in ["admins", "staff"] {
        ok(
            &issuer,
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": name}),
        )
        .await;
    }
    for user in ["mia", "ned"] {
        ok(
            &issuer,
            "AdminCreateUser",
            json!({"UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS"}),
        )
        .await;
    }
    let add =
        |user: &str, group: &str| json!({"UserPoolId": pool, "Username": user, "GroupName": group});
    ok(&issuer, "AdminAddUserToGroup", add("mia", "admins")).await;
    ok(&issuer, "AdminAddUserToGroup", add("mia", "staff")).await;
    ok(&issuer, "AdminAddUserToGroup", add("ned", "staff")).await;
    ok(&issuer, "AdminAddUserToGroup", add("ned", "staff")).await;
    fails(
        &issuer,
        "AdminAddUserToGroup",
        add("nobody", "staff"),
        "UserNotFoundException",
    )
    .await;
    fails(
        &issuer,
        "AdminAddUserToGroup",
        add("mia", "nogroup"),
        "ResourceNotFoundException",
    )
    .await;

    let out = ok(
        &issuer,
        "AdminListGroupsForUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
    )
    .await;
    assert_eq!(group_names(&out), ["admins", "staff"]);
    let out = ok(
        &issuer,
        "AdminListGroupsForUser",
        json!({"UserPoolId": pool, "Username": "mia", "Limit": 1}),
    )
    .await;
    assert_eq!(group_names(&out), ["admins"]);
    let next = out["NextToken"].as_str().unwrap();
    let out = ok(
        &issuer,
        "AdminListGroupsForUser",
        json!({"UserPoolId": pool, "Username": "mia", "Limit": 1, "NextToken": next}),
    )
    .await;
    assert_eq!(group_names(&out), ["staff"]);
    assert!(out.get("NextToken").is_none());

    let users = |out: &Value| -> Vec<String> {
        out["Users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["Username"].as_str().unwrap().to_string())
            .collect()
    };
    let out = ok(
        &issuer,
        "ListUsersInGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    )
    .await;
    assert_eq!(users(&out), ["mia", "ned"]);
    assert_eq!(out["Users"][0]["UserStatus"], "FORCE_CHANGE_PASSWORD");

    ok(&issuer, "AdminRemoveUserFromGroup", add("ned", "staff")).await;
    let out = ok(
        &issuer,
        "ListUsersInGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    )
    .await;
    assert_eq!(users(&out), ["mia"]);
    ok(
        &issuer,
        "DeleteGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    )
    .await;
    let out = ok(
        &issuer,
        "AdminListGroupsForUser",
        json!({"UserPoolId": pool, "Username": "mia"}),
    )
    .await;
    assert_eq!(
        group_names(&out),
        ["admins"],
        "a deleted group leaves its members"
    );
    // A group of the same name later starts empty.
    ok(
        &issuer,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    )
    .await;
    let out = ok(
        &issuer,
        "ListUsersInGroup",
        json!({"UserPoolId": pool, "GroupName": "staff"}),
    )
    .await;
    assert_eq!(users(&out), Vec::<String>::new());
}
