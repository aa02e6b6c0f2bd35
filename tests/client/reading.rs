//! Reading: who am I, the partner directory, health, and listing every
//! referral over many pages exactly once.

use super::*;

#[tokio::test]
async fn me_partners_and_healthz() {
    let w = World::start().await;
    let c = w.client(&w.acme);
    let me = c.me().await.unwrap();
    assert_eq!(me.user.name, "Dana Reyes");
    assert_eq!(me.user.role, Role::Agent);
    assert_eq!(me.partner.id, "acme-web");
    let all = c.partners(None).await.unwrap();
    assert_eq!(all.len(), 3);
    let hosting = c.partners(Some("hosting")).await.unwrap();
    let ids: Vec<&str> = hosting.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["harbor-host"]);
    // A query with characters that need encoding reaches the server intact.
    assert!(c.partners(Some("a&b=c d")).await.unwrap().is_empty());
    c.healthz().await.unwrap();

    let e = w.client("not-a-token").me().await.unwrap_err();
    expect_api(&e, 401, ErrorCode::Unauthenticated);
    assert!(e.is_definite());
    assert!(e.to_string().starts_with("unauthenticated: "), "{e}");
}

#[tokio::test]
async fn list_all_over_many_pages_returns_each_referral_once() {
    let w = World::start().await;
    let mut sent = HashSet::new();
    for i in 0..23 {
        let to = if i % 2 == 0 {
            "acme-web"
        } else {
            "harbor-host"
        };
        let r = w
            .send_from_northwind(to, &format!("Company {i}"), None)
            .await;
        sent.insert(r.id);
    }
    let c = w.client(&w.northwind);
    let (items, as_of) = c
        .list_all_with(ReferralBox::Outgoing, &[], 4)
        .await
        .unwrap();
    assert_eq!(items.len(), 23);
    let ids: HashSet<String> = items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids, sent, "every referral exactly once");
    let mut sorted: Vec<&String> = items.iter().map(|r| &r.id).collect();
    sorted.sort();
    assert_eq!(
        sorted,
        items.iter().map(|r| &r.id).collect::<Vec<_>>(),
        "ordered by id"
    );
    assert_eq!(as_of, 23, "as_of is the event seq at the first page");

    // The default page size, and a box and status filter.
    let (all, _) = c.list_all(ReferralBox::All).await.unwrap();
    assert_eq!(all.len(), 23);
    let acme = w.client(&w.acme);
    let (incoming, _) = acme
        .list_all_with(ReferralBox::Incoming, &[Status::Pending], 3)
        .await
        .unwrap();
    assert_eq!(incoming.len(), 12);
    assert!(incoming.iter().all(|r| r.to_partner == "acme-web"));
    let (outgoing, _) = acme
        .list_all_with(ReferralBox::Outgoing, &[], 3)
        .await
        .unwrap();
    assert!(outgoing.is_empty());

    // One page by hand: the cursor goes back URL-encoded.
    let p1 = c
        .list_page(ReferralBox::Outgoing, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(p1.items.len(), 10);
    let cursor = p1.next_cursor.expect("more pages");
    let p2 = c
        .list_page(ReferralBox::Outgoing, &[], Some(&cursor), 10)
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 10);
    assert!(p2.items[0].id > p1.items[9].id);

    let e = c
        .list_page(ReferralBox::All, &[], None, 0)
        .await
        .unwrap_err();
    expect_api(&e, 400, ErrorCode::BadRequest);
}
