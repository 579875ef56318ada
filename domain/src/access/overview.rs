//! The Access screen in one call: for the scope asked about, the grants the caller may manage
//! on and around it, who may do what there (for a repository), the repositories created in
//! Regent that the caller administers, and the subjects to suggest in the grant form.
//!
//! Everything is limited to what the caller administers: an administrator sees all of it, a
//! scope administrator (their own `users/<name>/*` at least) only what lies inside their scopes,
//! and the page is no directory of the company's users for them (`who.rs` says the same for
//! the effective levels).

use super::{Access, Grant, Policy, Scope, Viewer, WhoMay, who_may};
use crate::index::CatalogIndex;
use crate::store::{CreatedRepository, Store, StoreError};

/// What the caller may see and manage on the Access screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// The scopes the caller administers (`*` alone for an administrator).
    pub administered: Vec<Scope>,
    /// Grants on, inside or around the asked scope that the caller may change.
    pub grants: Vec<Grant>,
    /// For a repository the caller administers: who may do what there.
    pub who: Option<WhoMay>,
    /// Repositories created in Regent that the caller administers, with their tag counts.
    pub created: Vec<(CreatedRepository, usize)>,
    /// Subjects for the grant form: `anonymous`, `authenticated`, and `user:`/`group:` names
    /// the caller knows.
    pub subjects: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error("Only administrators and scope administrators can manage access")]
    NotAdministrator,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The Access screen for `viewer` (whose rights under `policy` are `access`), about `asked`
/// (`None`: everything they administer).
pub async fn overview(
    store: &Store,
    index: &CatalogIndex,
    policy: &Policy,
    viewer: &Viewer,
    access: &Access,
    asked: Option<&Scope>,
) -> Result<Overview, OverviewError> {
    let administered = if access.admin {
        vec![Scope::All]
    } else {
        access.administered()
    };
    if administered.is_empty() {
        return Err(OverviewError::NotAdministrator);
    }
    let related = |grant_scope: &Scope| match asked {
        None | Some(Scope::All) => true,
        Some(Scope::Repository(r)) => grant_scope.covers(r),
        Some(asked @ Scope::Namespace(_)) => grant_scope.within(asked) || asked.within(grant_scope),
    };
    let grants: Vec<Grant> = policy
        .grants
        .iter()
        .filter(|g| access.administers(&g.scope) && related(&g.scope))
        .cloned()
        .collect();
    let users = store.users().await?;
    let who = match asked {
        Some(scope @ Scope::Repository(r)) if access.administers(scope) => {
            let viewers: Vec<Viewer> = users
                .iter()
                .filter(|u| !u.disabled)
                .map(|u| Viewer {
                    user: Some(u.name.clone()),
                    admin: u.admin,
                    groups: u.groups.clone(),
                })
                .collect();
            Some(who_may(policy, &viewers, r, access))
        }
        _ => None,
    };
    let created = store.created_repositories().await?;
    let created = {
        let data = index.read();
        created
            .into_iter()
            .filter(|c| access.administers(&Scope::Repository(c.name.clone())))
            .map(|c| {
                let tags = data.repository_tag_count(&c.name);
                (c, tags)
            })
            .collect()
    };
    let mut subjects = vec!["anonymous".to_owned(), "authenticated".to_owned()];
    if access.admin {
        subjects.extend(users.iter().map(|u| format!("user:{}", u.name)));
        subjects.extend(store.groups().await?.iter().map(|g| format!("group:{}", g.name)));
    } else {
        // Only names the caller already knows: their own, their groups', and those in the
        // grants they see.
        subjects.extend(viewer.user.iter().map(|u| format!("user:{u}")));
        subjects.extend(viewer.groups.iter().map(|(g, _)| format!("group:{g}")));
        subjects.extend(grants.iter().map(|g| g.subject.to_string()));
        subjects.sort();
        subjects.dedup();
    }
    Ok(Overview {
        administered,
        grants,
        who,
        created,
        subjects,
    })
}
