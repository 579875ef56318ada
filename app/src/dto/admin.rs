//! What the management screens show and send: users, groups, grants, created repositories and
//! the audit log.

use serde::{Deserialize, Serialize};

/// How a change ended. A refusal (bad input, a name taken, not allowed) is an answer the
/// screen shows in words, with nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Done(String),
    Refused(String),
}

/// Why a management screen shows nothing: not signed in, or not allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Denied {
    pub signed_in: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub name: String,
    pub admin: bool,
    pub disabled: bool,
    /// A service account (registry tokens only, no sign-in to the pages).
    pub service: bool,
    /// Made by a sign-in with the company directory (no Regent password).
    pub directory: bool,
    pub created: String,
    /// Groups, and whether the user owns each.
    pub groups: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UsersView {
    Denied(Denied),
    Listed {
        users: Vec<UserRow>,
        /// The company directory's state in a sentence, when there is one.
        directory: Option<String>,
    },
}

/// `/admin/directory`: the company directory as Regent uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryView {
    Denied(Denied),
    /// No `directory.url`: local users only.
    Off,
    Shown(DirectoryDetail),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryDetail {
    /// The connection state in a sentence.
    pub state: String,
    pub reachable: Option<bool>,
    /// The settings in effect, the password hidden.
    pub settings: Vec<(String, String)>,
    pub last_error: Option<String>,
    pub user_binds: u64,
    /// "1 open of at most 4".
    pub connections: String,
}

/// What "check a user" found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryCheck {
    Found {
        name: String,
        dn: String,
        groups: Vec<String>,
        disabled: bool,
    },
    /// Nothing found, not allowed or the directory did not answer: the sentence says which.
    Refused(String),
}

/// A grant as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    pub subject: String,
    pub scope: String,
    pub level: String,
}

/// A scope that gives a user something, and why ("grant to group:qa").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonRow {
    pub scope: String,
    pub level: String,
    pub why: String,
}

/// "What can Greg do?"
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub user: UserRow,
    /// Grants made to this user by name (removed with the user).
    pub grants: Vec<GrantRow>,
    /// Grants (to anyone) on repositories in `users/<name>/` (removed with the user too).
    pub namespace_grants: usize,
    /// Everything that applies to the user, with why.
    pub reasons: Vec<ReasonRow>,
    /// Repositories the user can see, with their level; the first `REPOSITORIES_SHOWN`.
    pub repositories: Vec<(String, String)>,
    pub repositories_total: usize,
    /// The viewer is looking at themselves (no disable/delete/demote buttons).
    pub is_self: bool,
}

/// The most repositories listed on a user's page.
pub const REPOSITORIES_SHOWN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserView {
    Denied(Denied),
    /// The name in the address is malformed or unknown; the message says which.
    NotFound(String),
    Found(Box<UserDetail>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub name: String,
    pub created: String,
    /// Its members are what the company directory says; not editable here.
    pub directory: bool,
    /// Members, and whether each owns the group.
    pub members: Vec<(String, bool)>,
    /// Grants made to the group.
    pub grants: Vec<GrantRow>,
    /// Grants (to anyone) on repositories in `groups/<name>/` (removed with the group too).
    pub namespace_grants: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupsView {
    Denied(Denied),
    Listed {
        groups: Vec<GroupRow>,
        /// Every user name, for the add-member field.
        users: Vec<String>,
        /// An administrator (may create and delete groups); otherwise an owner who sees and
        /// manages the members of the groups they own.
        admin: bool,
    },
}

/// Who can do what on one repository, user by user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveRow {
    /// A user name, or `anonymous` for visitors who are not signed in.
    pub who: String,
    pub level: String,
    pub why: Vec<String>,
}

/// A repository created in Regent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedRow {
    pub name: String,
    pub created_by: String,
    pub created: String,
    /// Tags pushed since (0: still empty).
    pub tags: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDetail {
    /// The scope asked about (`?scope=`), as typed.
    pub scope: String,
    /// The scope asked about makes no sense; why.
    pub problem: Option<String>,
    /// What the viewer administers: `["*"]` for a global admin.
    pub administered: Vec<String>,
    /// Grants on or around the scope asked about (all the viewer may see when none).
    pub grants: Vec<GrantRow>,
    /// For one repository: every user's effective level.
    pub effective: Option<Vec<EffectiveRow>>,
    /// For one repository: how many others have access the viewer may not see (administrators,
    /// grants outside the scopes they administer).
    #[serde(default)]
    pub effective_hidden: usize,
    pub created: Vec<CreatedRow>,
    /// `user:…` and `group:…` names, for the subject field.
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessView {
    Denied(Denied),
    Found(Box<AccessDetail>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    /// How many identical refusals the row stands for (folded within a minute).
    pub count: i64,
}

/// The audit log's filters, from the address (`?actor=&action=&target=&outcome=&before=`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    /// Events older than this id (the next page).
    pub before: String,
}

impl AuditQuery {
    /// The address of this query, optionally continuing before `before`.
    pub fn href(&self, before: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("outcome", &self.outcome),
        ] {
            if !value.trim().is_empty() {
                parts.push(format!("{key}={}", super::encode_query_value(value.trim())));
            }
        }
        if let Some(b) = before {
            parts.push(format!("before={b}"));
        }
        if parts.is_empty() {
            "/admin/audit".into()
        } else {
            format!("/admin/audit?{}", parts.join("&"))
        }
    }
}

/// Audit rows per page.
pub const AUDIT_PAGE: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditView {
    Denied(Denied),
    BadQuery(String),
    Found {
        rows: Vec<AuditRow>,
        /// Set when older events exist.
        older: Option<i64>,
    },
}
