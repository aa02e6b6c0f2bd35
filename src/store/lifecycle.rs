//! What the partner and user lifecycle methods of [`super::Store`] share
//! across stores: the wording of a refused removal, and (in tests) the
//! contract both stores are held to.

/// Why a partner named in referrals cannot be removed.
pub(crate) fn named_in_referrals(id: &str, count: i64) -> String {
    let noun = if count == 1 { "referral" } else { "referrals" };
    format!(
        "partner {id:?} is named in {count} {noun} and cannot be removed (their history \
         needs it); change it with `leadx admin partner edit` instead"
    )
}

/// Why a partner with active users cannot be removed.
pub(crate) fn has_active_users(id: &str, count: i64) -> String {
    let noun = if count == 1 { "user" } else { "users" };
    format!(
        "partner {id:?} has {count} active {noun}; revoke them first \
         (`leadx admin user list`, `leadx admin user revoke USER_ID`)"
    )
}

#[cfg(test)]
pub(crate) mod contract {
    //! The lifecycle contract, run against each store.

    use crate::store::{Store, StoreError};
    use crate::wire::{CreateReferral, LeadInput, Partner, PartnerKind, Role};

    fn partner(id: &str) -> Partner {
        Partner {
            id: id.to_owned(),
            name: format!("{id} Inc"),
            kind: PartnerKind::Integrator,
            categories: vec!["hosting".into()],
            regions: vec!["US-West".into()],
        }
    }

    fn rejected(e: StoreError) -> String {
        match e {
            StoreError::Rejected(m) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Edit, rotate, remove: what each does and when each is refused.
    pub(crate) async fn partner_and_user_lifecycle(store: &dyn Store) {
        store.add_partner(&partner("acme-web")).await.unwrap();
        store.add_partner(&partner("harbor-host")).await.unwrap();
        store.add_partner(&partner("spare-co")).await.unwrap();

        // Edit: everything but the id changes; bad values are refused.
        let mut edited = partner("acme-web");
        edited.name = "Acme Web Studio".into();
        edited.kind = PartnerKind::Affiliate;
        edited.categories = vec!["design".into(), "services".into()];
        edited.regions = vec!["EU".into()];
        assert!(store.update_partner(&edited).await.unwrap());
        assert_eq!(store.get_partner("acme-web").await.unwrap(), Some(edited));
        assert!(!store.update_partner(&partner("nobody")).await.unwrap());
        let mut bad = partner("harbor-host");
        bad.name = String::new();
        rejected(store.update_partner(&bad).await.unwrap_err());
        assert_eq!(
            store.get_partner("harbor-host").await.unwrap(),
            Some(partner("harbor-host"))
        );

        // Rotate: a new token for the same user; the old one stops working.
        let (dana, old) = store
            .add_user("acme-web", "Dana Reyes", Role::Agent)
            .await
            .unwrap();
        let (rotated, new) = store.rotate_user(&dana.id).await.unwrap().expect("active");
        assert_eq!(
            (rotated.id.as_str(), rotated.role),
            (dana.id.as_str(), Role::Agent)
        );
        assert_ne!(old, new);
        assert!(store.authenticate(&old).await.unwrap().is_none());
        let actor = store
            .authenticate(&new)
            .await
            .unwrap()
            .expect("new token works");
        assert_eq!(actor.user_id, dana.id);
        assert!(store.rotate_user("u_nobody").await.unwrap().is_none());

        // Remove: refused while referrals name it or users are active.
        let sent = store
            .create(
                &actor,
                CreateReferral {
                    to_partner: "harbor-host".into(),
                    lead: LeadInput {
                        company: Some("Main Street Bakery".into()),
                        category: Some("hosting".into()),
                        ..LeadInput::default()
                    },
                    commission_pct: None,
                    note: None,
                    expires_in_hours: None,
                },
                None,
            )
            .await
            .unwrap();
        assert!(sent.is_ok(), "{sent:?}");
        let why = rejected(store.remove_partner("harbor-host").await.unwrap_err());
        assert!(
            why.contains("named in 1 referral and cannot be removed"),
            "{why}"
        );
        assert!(why.contains("partner edit"), "{why}");
        let (spare, _) = store
            .add_user("spare-co", "Sam", Role::Viewer)
            .await
            .unwrap();
        let why = rejected(store.remove_partner("spare-co").await.unwrap_err());
        assert!(why.contains("1 active user; revoke them first"), "{why}");
        assert!(store.revoke_user(&spare.id).await.unwrap());
        assert!(store.rotate_user(&spare.id).await.unwrap().is_none());
        assert!(store.remove_partner("spare-co").await.unwrap());
        assert!(store.get_partner("spare-co").await.unwrap().is_none());
        assert!(
            store
                .list_users()
                .await
                .unwrap()
                .iter()
                .all(|u| u.partner_id != "spare-co"),
            "its revoked users went with it"
        );
        assert!(!store.remove_partner("spare-co").await.unwrap());
        assert_eq!(store.list_partners(None).await.unwrap().len(), 2);
    }
}
