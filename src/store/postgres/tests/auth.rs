//! Cached token look-ups (`auth_cache.rs`) against a real server: a
//! change made anywhere reaches every server's cache.

use std::time::{Duration, Instant};

use super::*;

/// Asks `store` until `want` holds of its answer for `token` (2 s at most).
async fn until(store: &PgStore, token: &str, want: impl Fn(&Option<Actor>) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if want(&store.authenticate(token).await.unwrap()) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Revokes `user` with the notifying trigger turned off: no server hears it.
async fn revoke_unheard(admin: &tokio_postgres::Client, user: &str) {
    admin
        .batch_execute("ALTER TABLE users DISABLE TRIGGER users_auth_changed")
        .await
        .unwrap();
    admin
        .execute("UPDATE users SET revoked_at = 1 WHERE id = $1", &[&user])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_anywhere_drops_every_servers_cached_look_ups() {
    let w = world_or_skip!();
    let admin = admin(&w.db.url).await;
    let (kim, kim_token) = w.a.add_user("acme-web", "kim", Role::Agent).await.unwrap();
    // Let both listeners run, then look the token up on `a` (now cached).
    assert!(until(&w.a, &kim_token, Option::is_some).await);

    // A change the cache cannot hear (its trigger off) is not seen: the
    // look-up really is cached...
    revoke_unheard(&admin, &kim.id).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        w.a.authenticate(&kim_token).await.unwrap().is_some(),
        "the look-up was not cached"
    );
    // ... and any heard change drops it (a partner's, from a plain client).
    admin
        .batch_execute("ALTER TABLE users ENABLE TRIGGER users_auth_changed")
        .await
        .unwrap();
    admin
        .execute(
            "UPDATE partners SET name = name WHERE id = 'blue-host'",
            &[],
        )
        .await
        .unwrap();
    assert!(
        until(&w.a, &kim_token, Option::is_none).await,
        "a revoked user still authenticates on a server that had cached it"
    );

    // A token rotated on `b` stops working on `a`, which had cached it.
    let (lee, lee_token) = w.a.add_user("acme-web", "lee", Role::Agent).await.unwrap();
    assert!(until(&w.a, &lee_token, Option::is_some).await);
    let (_, new_token) = w.b.rotate_user(&lee.id).await.unwrap().unwrap();
    assert!(
        until(&w.a, &lee_token, Option::is_none).await,
        "old token still works"
    );
    assert_eq!(
        w.a.authenticate(&new_token).await.unwrap().unwrap().user_id,
        lee.id
    );

    // A partner renamed on `b`: `a`'s callers carry the new name.
    let mut acme = w.a.get_partner("acme-web").await.unwrap().unwrap();
    acme.name = "Acme Web Renamed".into();
    assert!(w.b.update_partner(&acme).await.unwrap());
    assert!(
        until(&w.a, &new_token, |a| {
            a.as_ref()
                .is_some_and(|a| a.partner_name == "Acme Web Renamed")
        })
        .await
    );

    // Revoked on `b`: refused on `a`; on `b` itself before `revoke_user`
    // returned.
    assert!(w.b.authenticate(&new_token).await.unwrap().is_some());
    assert!(w.b.revoke_user(&lee.id).await.unwrap());
    assert!(w.b.authenticate(&new_token).await.unwrap().is_none());
    assert!(until(&w.a, &new_token, Option::is_none).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_changes_cannot_be_heard_nothing_is_answered_from_the_cache() {
    let w = world_or_skip!();
    let admin = admin(&w.db.url).await;
    let (kim, kim_token) = w.a.add_user("acme-web", "kim", Role::Agent).await.unwrap();
    assert!(until(&w.a, &kim_token, Option::is_some).await);
    // Revoked where no notification can reach `a`: its listener is killed
    // in the same breath (and the trigger is off, so no notification is
    // sent at all). The lost connection alone must stop the cache.
    revoke_unheard(&admin, &kim.id).await;
    assert_eq!(kill_listeners(&admin).await, 2);
    assert!(
        until(&w.a, &kim_token, Option::is_none).await,
        "a server that lost its LISTEN connection answered from its cache"
    );
}
