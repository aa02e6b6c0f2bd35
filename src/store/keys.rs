//! What the SSH key methods of [`super::Store`] share across stores: the
//! wording of a refused key, and (in tests) the contract both stores are
//! held to.

/// Why a key cannot be added for this user.
pub(crate) fn no_active_user(user_id: &str) -> String {
    format!("no active user {user_id:?} (see `leadx admin user list`)")
}

/// Why a key registered already cannot be added again.
pub(crate) fn key_taken(fingerprint: &str, holder: &str) -> String {
    format!(
        "the key {fingerprint} is registered already (to user {holder:?}); one key belongs \
         to one user: remove it there first (`leadx admin user remove-key {holder} {fingerprint}`)"
    )
}

#[cfg(test)]
pub(crate) mod contract {
    //! The SSH key contract, run against each store.

    use crate::store::{NewKey, Store, StoreError};
    use crate::wire::{Partner, PartnerKind, Role};

    fn key(n: u8) -> NewKey {
        NewKey {
            fingerprint: format!("SHA256:test-key-{n}"),
            public_key: format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{n}"),
            comment: format!("dana@laptop-{n}"),
        }
    }

    fn rejected(e: StoreError) -> String {
        match e {
            StoreError::Rejected(m) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Add, list, authenticate, remove; one key one user; revoked users'
    /// keys stop working; a partner's removal takes its revoked users' keys.
    pub(crate) async fn ssh_keys(store: &dyn Store) {
        store
            .add_partner(&Partner {
                id: "acme-web".into(),
                name: "Acme".into(),
                kind: PartnerKind::Integrator,
                categories: vec!["hosting".into()],
                regions: vec!["EU".into()],
            })
            .await
            .unwrap();
        let (dana, _) = store
            .add_user("acme-web", "Dana", Role::Agent)
            .await
            .unwrap();
        let (lee, _) = store
            .add_user("acme-web", "Lee", Role::Agent)
            .await
            .unwrap();

        let added = store.add_key(&dana.id, &key(1)).await.unwrap();
        assert_eq!(added.fingerprint, "SHA256:test-key-1");
        assert_eq!(added.comment, "dana@laptop-1");
        assert_eq!(added.last_used, None);
        store.add_key(&dana.id, &key(2)).await.unwrap();
        // One key maps to one user.
        let taken = rejected(store.add_key(&lee.id, &key(1)).await.unwrap_err());
        assert!(taken.contains("registered already"), "{taken}");
        assert!(taken.contains(&dana.id), "{taken}");
        // Unknown users get none.
        let nobody = rejected(store.add_key("u_nobody", &key(3)).await.unwrap_err());
        assert!(nobody.contains("u_nobody"), "{nobody}");

        let keys = store.list_keys(&dana.id).await.unwrap();
        assert_eq!(keys.len(), 2);
        assert!(store.list_keys(&lee.id).await.unwrap().is_empty());

        let actor = store
            .authenticate_key("SHA256:test-key-1")
            .await
            .unwrap()
            .expect("dana's key");
        assert_eq!(
            (actor.user_id.as_str(), actor.partner_id.as_str()),
            (dana.id.as_str(), "acme-web")
        );
        let used = store.list_keys(&dana.id).await.unwrap();
        assert!(used[0].last_used.is_some() || used[1].last_used.is_some());
        assert!(
            store
                .authenticate_key("SHA256:unknown")
                .await
                .unwrap()
                .is_none()
        );

        // Removal: only the owner's key, once.
        assert!(
            !store
                .remove_key(&lee.id, "SHA256:test-key-2")
                .await
                .unwrap()
        );
        assert!(
            store
                .remove_key(&dana.id, "SHA256:test-key-2")
                .await
                .unwrap()
        );
        assert!(
            !store
                .remove_key(&dana.id, "SHA256:test-key-2")
                .await
                .unwrap()
        );
        assert!(
            store
                .authenticate_key("SHA256:test-key-2")
                .await
                .unwrap()
                .is_none()
        );

        // A revoked user's keys stop working, and the user gets no new one.
        assert!(store.revoke_user(&dana.id).await.unwrap());
        assert!(
            store
                .authenticate_key("SHA256:test-key-1")
                .await
                .unwrap()
                .is_none()
        );
        rejected(store.add_key(&dana.id, &key(4)).await.unwrap_err());
        // Removing the partner (its users revoked) takes their keys along.
        assert!(store.revoke_user(&lee.id).await.unwrap());
        assert!(store.remove_partner("acme-web").await.unwrap());
        assert!(store.list_keys(&dana.id).await.unwrap().is_empty());
    }
}
