//! "Who can do what on this repository?": the access screen's answer, as far as the asker
//! may know it.
//!
//! A global administrator sees every user's effective level and every reason. Someone who
//! administers only a scope (their own `users/<name>/*`, a team namespace) sees the people
//! whose access comes from grants and rules inside what they administer, with only those
//! reasons; administrators and access granted elsewhere are counted, not named, so managing
//! one's own namespace does not list the company's users and administrators.

use super::{Access, Level, Policy, Scope, Viewer};
use crate::reference::RepositoryName;

/// One line of the answer: who, their level, and the grants and rules behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// `anonymous`, or the user's name.
    pub who: String,
    pub level: Level,
    pub why: Vec<String>,
}

/// The lines the asker may see, and how many others have access they may not see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WhoMay {
    pub shown: Vec<Effective>,
    pub hidden: usize,
}

/// Everyone with access to `repository` under `policy` (anonymous callers first, then
/// `users` in their order, disabled ones left out by the caller), limited to what `asker` may
/// see.
pub fn who_may<'a>(
    policy: &Policy,
    users: impl IntoIterator<Item = &'a Viewer>,
    repository: &RepositoryName,
    asker: &Access,
) -> WhoMay {
    let mut out = WhoMay::default();
    let anonymous = Viewer::anonymous();
    let users: Vec<&Viewer> = users.into_iter().collect();
    for viewer in std::iter::once(&anonymous).chain(users) {
        let theirs = policy.for_viewer(viewer);
        let Some(level) = theirs.level(repository) else {
            continue;
        };
        let who = viewer
            .user
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), ToString::to_string);
        if asker.admin {
            let why = if viewer.admin {
                vec!["administrator".to_owned()]
            } else {
                reasons(&theirs, repository, |_| true)
            };
            out.shown.push(Effective { who, level, why });
            continue;
        }
        // A scope administrator learns only of access that comes from inside their scopes.
        let why = reasons(&theirs, repository, |scope| asker.administers(scope));
        if viewer.admin || why.is_empty() {
            out.hidden += 1;
            continue;
        }
        let level = theirs
            .explain(repository)
            .iter()
            .filter(|(s, _, _)| asker.administers(s))
            .map(|(_, l, _)| *l)
            .max()
            .unwrap_or(level);
        out.shown.push(Effective { who, level, why });
    }
    out
}

fn reasons(access: &Access, repository: &RepositoryName, shown: impl Fn(&Scope) -> bool) -> Vec<String> {
    access
        .explain(repository)
        .iter()
        .filter(|(s, _, _)| shown(s))
        .map(|(s, _, o)| format!("{o} on {s}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, Name, Rules, Subject};

    fn user(name: &str, admin: bool) -> Viewer {
        Viewer {
            user: Some(Name::parse(name).unwrap()),
            admin,
            groups: vec![],
        }
    }

    fn grant(who: &str, scope: &str, level: Level) -> Grant {
        Grant {
            subject: Subject::User(Name::parse(who).unwrap()),
            scope: Scope::parse(scope).unwrap(),
            level,
        }
    }

    #[test]
    fn a_user_managing_their_own_namespace_sees_only_whom_they_let_in() {
        let policy = Policy::new(
            vec![
                grant("greg", "users/jane/app", Level::Read),
                grant("ops", "*", Level::Read),
            ],
            Rules::default(),
        );
        let users = [
            user("admin", true),
            user("greg", false),
            user("jane", false),
            user("ops", false),
        ];
        let repository = RepositoryName::parse("users/jane/app").unwrap();
        let jane = policy.for_viewer(&users[2]);

        let seen = who_may(&policy, &users, &repository, &jane);
        let names: Vec<&str> = seen.shown.iter().map(|e| e.who.as_str()).collect();
        assert_eq!(names, ["greg", "jane"]);
        assert_eq!(
            seen.hidden, 2,
            "the administrator and the grant on * are counted, not named"
        );
        assert!(seen.shown.iter().all(|e| !e.why.iter().any(|w| w.contains("on *"))));

        let everything = who_may(&policy, &users, &repository, &Access::everything());
        assert_eq!(everything.shown.len(), 4);
        assert_eq!(everything.hidden, 0);
    }
}
