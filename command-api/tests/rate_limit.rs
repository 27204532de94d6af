//! The rate limiter against the real PostgreSQL: two pools stand for two instances of the API.

use adflow_command_api::rate_limit::{take, Decision};
use futures_util::future::join_all;
use sqlx::postgres::PgPoolOptions;

#[tokio::test]
async fn two_instances_share_one_limit_and_it_refills_with_time() {
    let db = adflow_testkit::fresh_database().await;
    let other_instance = PgPoolOptions::new()
        .max_connections(8)
        .connect(&db.url)
        .await
        .unwrap();
    let pools = [&db.pool, &other_instance];
    // 40 concurrent commands against 20 per minute: exactly the burst of 20 gets through.
    let decisions = join_all((0..40).map(|i| take(pools[i % 2], "caller:t:alice", 20))).await;
    let allowed = decisions
        .iter()
        .filter(|d| matches!(d, Ok(Decision::Allowed)))
        .count();
    assert_eq!(allowed, 20, "{decisions:?}");
    for decision in &decisions {
        if let Ok(Decision::Limited {
            retry_after_seconds,
        }) = decision
        {
            assert!(
                (0.0..=3.1).contains(retry_after_seconds),
                "one interval (3 s) at most: {retry_after_seconds}"
            );
        }
    }
    // Other buckets are untouched.
    assert_eq!(
        take(&db.pool, "caller:t:bob", 20).await.unwrap(),
        Decision::Allowed
    );
    // One interval later, one more command (and only one) gets through.
    sqlx::query(
        "UPDATE rate_limits SET tat = tat - interval '3 seconds' WHERE bucket = 'caller:t:alice'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        take(&other_instance, "caller:t:alice", 20).await.unwrap(),
        Decision::Allowed
    );
    assert!(matches!(
        take(&db.pool, "caller:t:alice", 20).await.unwrap(),
        Decision::Limited { .. }
    ));
}
