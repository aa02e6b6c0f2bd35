//! The directory: tokens random, stored hashed and revocable; partners
//! and users with bad input refused.

use super::*;

#[test]
fn tokens_are_random_hashed_and_revocable() {
    let w = world();
    let token = &w.tokens["acme"];
    assert!(token.starts_with("lx_") && token.len() == 3 + 64, "{token}");
    assert_ne!(w.tokens["acme"], w.tokens["acme-admin"]);
    let a = w.actor("acme");
    assert_eq!(a.partner_id, "acme-web");
    assert_eq!(a.partner_name, "ACME-WEB");
    assert_eq!(a.role, Role::Agent);
    assert!(w.store.authenticate("lx_nope").unwrap().is_none());
    assert!(w.store.authenticate("").unwrap().is_none());
    // Only the hash is on disk.
    let c = Connection::open(&w.path).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM users WHERE token_hash = ?1",
            [&token_hash(token)[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let raw: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM users WHERE CAST(token_hash AS TEXT) = ?1 OR name = ?1",
            [token],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, 0);
    assert!(w.store.revoke_user(&a.user_id).unwrap());
    assert!(!w.store.revoke_user(&a.user_id).unwrap());
    assert!(w.store.authenticate(token).unwrap().is_none());
    let users = w.store.list_users().unwrap();
    let me = users.iter().find(|u| u.id == a.user_id).unwrap();
    assert!(me.revoked_at.is_some());
    assert!(me.id.starts_with("u_"));
}

#[test]
fn directory_rejects_bad_input() {
    let w = world();
    let p = |id: &str| Partner {
        id: id.into(),
        name: "X".into(),
        kind: PartnerKind::Affiliate,
        categories: vec![],
        regions: vec![],
    };
    assert!(
        matches!(w.store.add_partner(&p("acme-web")), Err(StoreError::Rejected(m)) if m.contains("already exists"))
    );
    assert!(matches!(
        w.store.add_partner(&p("Bad_Slug")),
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        w.store.add_user("nobody", "N", Role::Agent),
        Err(StoreError::Rejected(m)) if m.contains("nobody")
    ));
    let hits = w.store.list_partners(Some("ACME")).unwrap();
    assert_eq!(
        hits.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["acme-web"]
    );
    assert_eq!(w.store.list_partners(Some("design")).unwrap().len(), 6);
    assert!(w.store.list_partners(Some("zzz")).unwrap().is_empty());
    let got = w.store.get_partner("blue-host").unwrap().unwrap();
    assert_eq!(got.regions, vec!["US-West"]);
    assert!(w.store.get_partner("nope").unwrap().is_none());
    w.store.health().unwrap();
}
