//! Key rotation and the grace period of the old key.

use super::*;

#[tokio::test]
async fn rotation_signs_with_the_new_key_and_drops_the_old_after_the_grace_period() {
    let issuer = empty_issuer().await;
    let pool = new_pool(&issuer).await;
    photo_server(&issuer, &pool, &["photos.read"]).await;
    let (id, secret) = client(&issuer, &pool, &[READ_FULL]).await;
    let before = issuer.client_credentials(&id, &secret, None).await.unwrap();
    let old_kid = header_of(&before)["kid"].as_str().unwrap().to_string();

    let response = http()
        .post(format!(
            "{}/_local/{pool}/rotate-key?grace_seconds=1",
            issuer.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rotated: Value = json_body(response).await;
    assert_eq!(rotated["previous_kid"], old_kid.as_str());
    let new_kid = rotated["kid"].as_str().unwrap().to_string();

    let after = issuer.client_credentials(&id, &secret, None).await.unwrap();
    assert_eq!(header_of(&after)["kid"], new_kid.as_str());
    let published = |issuer: &LocalIssuer| issuer.user_pool(&pool).kids();
    assert_eq!(published(&issuer), vec![old_kid.clone(), new_kid.clone()]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(published(&issuer), vec![new_kid]);
}

#[tokio::test]
async fn rotating_in_a_loop_keeps_at_most_sixteen_keys() {
    let issuer = LocalIssuer::start().await.unwrap();
    let pool = issuer.pool();
    let first = pool.signing_kid();
    let mut latest = Vec::new();
    for _ in 0..20 {
        latest.push(pool.rotate(Some(Duration::from_secs(3600))).unwrap());
    }
    let kids = pool.kids();
    assert_eq!(kids.len(), 16, "{kids:?}");
    // The newest sixteen: the signing key and fifteen retiring ones.
    assert_eq!(kids, latest[4..].to_vec());
    assert!(!kids.contains(&first));
    assert_eq!(pool.signing_kid(), *latest.last().unwrap());
}
