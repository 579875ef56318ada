//! Who may do what to which repository: the one answer every screen, search result, delete
//! button and (with the token service) the registry itself asks for.
//!
//! A grant gives a subject (a user, a group, everyone, or every signed-in user) a level on a
//! scope (one repository, a namespace `team/*` and everything below it, or `*`). Levels nest:
//! `read` (view, pull) < `write` (+ push) < `delete` (+ delete) < `admin` (+ manage the
//! scope's grants). The effective level is the highest one that applies; nothing applies, no
//! access: the repository is invisible. Built-in rules (each switchable) give every user
//! `users/<name>/*` and every group's members `groups/<group>/*`; global admins may do
//! everything. The policy is pure code, no I/O: the store loads grants, this decides.
//!
//! Who the viewer is comes from signing in ([`SignIns`]): the one place a password is checked,
//! with the throttle and the global bound on password hashing.

mod client;
mod hashing;
mod local_path;
mod names;
mod overview;
mod sign_in;
mod throttle;
mod who;

pub use client::{Client, TrustedProxies};
pub use hashing::HashingLimit;
pub use local_path::{DEFAULT_AFTER_SIGN_IN, LocalPath};
pub use names::{Name, NameError};
pub use overview::{Overview, OverviewError, overview};
pub use sign_in::{Attempt, Door, MAX_INPUT, Refused, SignIns};
pub use throttle::LoginThrottle;
pub use who::{Effective, WhoMay, who_may};

use crate::reference::RepositoryName;
use std::fmt;

/// How much a subject may do; each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// See the repository and pull from it.
    Read,
    /// And push to it.
    Write,
    /// And delete tags, manifests and layers.
    Delete,
    /// And manage the grants on it.
    Admin,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Read, Level::Write, Level::Delete, Level::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Delete => "delete",
            Level::Admin => "admin",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == input.trim())
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a level; use read, write, delete or admin",
                    shorten(input)
                )
            })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a viewer wants to do to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See it in listings and search, open its pages.
    View,
    Pull,
    Push,
    Delete,
    ManageGrants,
}

impl Action {
    /// The level the action needs.
    pub fn needs(self) -> Level {
        match self {
            Action::View | Action::Pull => Level::Read,
            Action::Push => Level::Write,
            Action::Delete => Level::Delete,
            Action::ManageGrants => Level::Admin,
        }
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    User(Name),
    Group(Name),
    /// Everyone, signed in or not: a public scope.
    Anonymous,
    /// Every signed-in user.
    Authenticated,
}

impl Subject {
    /// `user:<name>`, `group:<name>`, `anonymous` or `authenticated`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let text = input.trim();
        match text {
            "anonymous" => return Ok(Subject::Anonymous),
            "authenticated" => return Ok(Subject::Authenticated),
            _ => {}
        }
        let parsed = match text.split_once(':') {
            Some(("user", name)) => Name::parse(name).map(Subject::User),
            Some(("group", name)) => Name::parse(name).map(Subject::Group),
            _ => {
                return Err(format!(
                    "\"{}\" is not a subject; write user:<name>, group:<name>, anonymous or authenticated",
                    shorten(input)
                ));
            }
        };
        parsed.map_err(|e| e.to_string())
    }
}

impl Subject {
    /// The namespace the built-in rules give this subject, `users/<name>` or
    /// `groups/<name>`; none for `anonymous` and `authenticated`.
    pub fn namespace(&self) -> Option<String> {
        match self {
            Subject::User(n) => Some(format!("users/{n}")),
            Subject::Group(n) => Some(format!("groups/{n}")),
            Subject::Anonymous | Subject::Authenticated => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(n) => write!(f, "user:{n}"),
            Subject::Group(n) => write!(f, "group:{n}"),
            Subject::Anonymous => f.write_str("anonymous"),
            Subject::Authenticated => f.write_str("authenticated"),
        }
    }
}

/// Which repositories a grant covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Exactly this repository.
    Repository(RepositoryName),
    /// Every repository below this prefix (`team/*` covers `team/app` and `team/a/b`).
    Namespace(RepositoryName),
    /// Every repository (`*`).
    All,
}

impl Scope {
    /// `skyfield`, `team/*` (also `team/**`), or `*`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let text = input.trim();
        if text == "*" || text == "**" {
            return Ok(Scope::All);
        }
        let (name, namespace) = match text.strip_suffix("/**").or_else(|| text.strip_suffix("/*")) {
            Some(prefix) => (prefix, true),
            None => (text, false),
        };
        let name = RepositoryName::parse(name).map_err(|e| {
            let lower = name.to_lowercase();
            let hint = if lower != name && RepositoryName::parse(&lower).is_ok() {
                format!(" Repository names are lowercase: did you mean \"{lower}\"?")
            } else {
                String::new()
            };
            format!("{e}{hint}")
        })?;
        Ok(if namespace {
            Scope::Namespace(name)
        } else {
            Scope::Repository(name)
        })
    }

    /// Whether the scope lies inside `namespace` (`users/greg`): `users/greg/app`,
    /// `users/greg/*`, `users/greg/a/*`. Grants on these go when the user or group does.
    pub fn inside(&self, namespace: &str) -> bool {
        self.to_string()
            .strip_prefix(namespace)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    pub fn covers(&self, repository: &RepositoryName) -> bool {
        match self {
            Scope::Repository(r) => r == repository,
            Scope::Namespace(prefix) => repository
                .as_str()
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
            Scope::All => true,
        }
    }

    /// Whether every repository this scope covers is also covered by `outer`.
    pub fn within(&self, outer: &Scope) -> bool {
        match (self, outer) {
            (_, Scope::All) => true,
            (Scope::All, _) => false,
            (Scope::Repository(r), o) => o.covers(r),
            (Scope::Namespace(p), Scope::Namespace(o)) => p == o || Scope::Namespace(o.clone()).covers(p),
            (Scope::Namespace(_), Scope::Repository(_)) => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Repository(r) => write!(f, "{r}"),
            Scope::Namespace(p) => write!(f, "{p}/*"),
            Scope::All => f.write_str("*"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    pub subject: Subject,
    pub scope: Scope,
    pub level: Level,
}

/// What is known about whoever is asking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Viewer {
    /// `None`: not signed in.
    pub user: Option<Name>,
    /// Global role `admin`: everything, including user management.
    pub admin: bool,
    /// Groups the user is in, and whether as an owner.
    pub groups: Vec<(Name, bool)>,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Self::default()
    }

    pub fn user(name: Name) -> Self {
        Self {
            user: Some(name),
            ..Self::default()
        }
    }

    fn is(&self, subject: &Subject) -> bool {
        match subject {
            Subject::Anonymous => true,
            Subject::Authenticated => self.user.is_some(),
            Subject::User(n) => self.user.as_ref() == Some(n),
            Subject::Group(g) => self.groups.iter().any(|(m, _)| m == g),
        }
    }
}

/// The built-in rules; both on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// `users/<name>/*` is `admin` for that user.
    pub user_namespaces: bool,
    /// `groups/<group>/*` is `write` for its members and `admin` for its owners.
    pub group_namespaces: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            user_namespaces: true,
            group_namespaces: true,
        }
    }
}

/// Every grant plus the rules: the whole access policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub grants: Vec<Grant>,
    pub rules: Rules,
}

impl Policy {
    pub fn new(grants: Vec<Grant>, rules: Rules) -> Self {
        Self { grants, rules }
    }

    /// The viewer's access, worked out once for a request that checks many repositories.
    pub fn for_viewer(&self, viewer: &Viewer) -> Access {
        let mut scopes: Vec<(Scope, Level, Origin)> = self
            .grants
            .iter()
            .filter(|g| viewer.is(&g.subject))
            .map(|g| (g.scope.clone(), g.level, Origin::Grant(g.subject.clone())))
            .collect();
        let namespace = |prefix: &str, name: &Name| RepositoryName::parse(&format!("{prefix}/{name}")).ok();
        if self.rules.user_namespaces
            && let Some(user) = &viewer.user
            && let Some(ns) = namespace("users", user)
        {
            scopes.push((Scope::Namespace(ns), Level::Admin, Origin::OwnNamespace));
        }
        if self.rules.group_namespaces {
            for (group, owner) in &viewer.groups {
                if let Some(ns) = namespace("groups", group) {
                    let level = if *owner { Level::Admin } else { Level::Write };
                    scopes.push((Scope::Namespace(ns), level, Origin::GroupNamespace(group.clone())));
                }
            }
        }
        Access {
            admin: viewer.admin,
            signed_in: viewer.user.is_some(),
            scopes,
        }
    }

    /// "May `viewer` do `action` on `repository`?"
    pub fn may(&self, viewer: &Viewer, action: Action, repository: &RepositoryName) -> bool {
        self.for_viewer(viewer).may(action, repository)
    }
}

/// Why a scope applies to a viewer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A grant to this subject (the viewer, a group of theirs, `authenticated`, `anonymous`).
    Grant(Subject),
    /// The built-in rule: `users/<name>/*` is the user's own.
    OwnNamespace,
    /// The built-in rule: `groups/<group>/*` belongs to the group's members.
    GroupNamespace(Name),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Grant(subject) => write!(f, "grant to {subject}"),
            Origin::OwnNamespace => f.write_str("built-in rule: own namespace"),
            Origin::GroupNamespace(group) => write!(f, "built-in rule: namespace of group {group}"),
        }
    }
}

/// One viewer's access: the scopes that apply to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub admin: bool,
    /// Whether the viewer is signed in (an anonymous viewer may see more after signing in).
    pub signed_in: bool,
    scopes: Vec<(Scope, Level, Origin)>,
}

impl Access {
    /// Everything on every repository: Regent acting for itself.
    pub fn everything() -> Self {
        Self {
            admin: true,
            ..Self::default()
        }
    }

    /// The highest level that applies; `None`: no access, the repository is invisible.
    pub fn level(&self, repository: &RepositoryName) -> Option<Level> {
        if self.admin {
            return Some(Level::Admin);
        }
        self.scopes
            .iter()
            .filter(|(s, _, _)| s.covers(repository))
            .map(|(_, l, _)| *l)
            .max()
    }

    /// Every scope that gives the viewer something on `repository`, and why: the answer to
    /// "why can Greg pull this?". Global admins have no entries; `admin` says it all.
    pub fn explain(&self, repository: &RepositoryName) -> Vec<(Scope, Level, Origin)> {
        self.scopes
            .iter()
            .filter(|(s, _, _)| s.covers(repository))
            .cloned()
            .collect()
    }

    /// Every scope that applies to the viewer, wherever it points.
    pub fn scopes(&self) -> &[(Scope, Level, Origin)] {
        &self.scopes
    }

    /// Whether the viewer may manage the grants on `scope` (and create repositories in it):
    /// a global admin, or `admin` on a scope that contains it.
    pub fn administers(&self, scope: &Scope) -> bool {
        self.admin
            || self
                .scopes
                .iter()
                .any(|(s, l, _)| *l == Level::Admin && scope.within(s))
    }

    /// The scopes the viewer administers (empty for a global admin, who administers all).
    pub fn administered(&self) -> Vec<Scope> {
        let mut out: Vec<Scope> = self
            .scopes
            .iter()
            .filter(|(_, l, _)| *l == Level::Admin)
            .map(|(s, _, _)| s.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn may(&self, action: Action, repository: &RepositoryName) -> bool {
        self.level(repository).is_some_and(|l| l >= action.needs())
    }

    /// Whether the viewer may read at least one repository of the OpenShift project
    /// `project` (the repositories `project/*`): what lets them see the project's pods and
    /// stream tags next to an image they can read. Not a grant on the project itself.
    pub fn reads_in_project(&self, project: &str) -> bool {
        if self.admin {
            return true;
        }
        let Ok(project) = RepositoryName::parse(project) else {
            return false;
        };
        let inside = Scope::Namespace(project.clone());
        self.scopes.iter().any(|(scope, level, _)| {
            *level >= Action::View.needs()
                && match scope {
                    Scope::All => true,
                    Scope::Repository(r) => inside.covers(r),
                    // `project/*`, a namespace around it (`*` aside), or one inside it.
                    Scope::Namespace(p) => *p == project || scope.covers(&project) || inside.covers(p),
                }
        })
    }
}

fn shorten(input: &str) -> String {
    input.chars().take(60).collect()
}

#[cfg(test)]
mod tests;
