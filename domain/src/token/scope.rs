//! What a client asks the token service for, and what it gets.
//!
//! Scopes come as `repository:<name>:<actions>` (actions `pull`, `push`, `delete`, `*`,
//! comma-separated) or `registry:catalog:*`, repeated and also space-separated inside one
//! parameter (the registry's mount challenge does that). The answer is the intersection of
//! what was asked and what the access policy allows, possibly empty; unknown scope types get
//! nothing. Malformed scopes are errors the client is told about, not silently dropped.

use crate::access::{Access, Action};
use crate::reference::RepositoryName;
use serde::Serialize;

/// The most scopes one request may carry (a push with mounts needs a handful).
pub const MAX_SCOPES: usize = 64;
/// The longest scope looked at.
pub const MAX_SCOPE_LEN: usize = 512;

/// One scope as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Repository {
        name: RepositoryName,
        actions: Vec<String>,
    },
    /// `registry:catalog:*`.
    Catalog,
    /// A well-formed scope of a type Regent grants nothing for (`registry:other:*`, a
    /// resource type with a class, …).
    Other(String),
}

/// An entry of the token's `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// Parses every `scope` parameter, splitting each on spaces.
pub fn parse_scopes<'a>(params: impl IntoIterator<Item = &'a str>) -> Result<Vec<Requested>, String> {
    let mut out = Vec::new();
    for param in params {
        for scope in param.split(' ').filter(|s| !s.is_empty()) {
            if out.len() == MAX_SCOPES {
                return Err(format!("too many scopes; at most {MAX_SCOPES} per request"));
            }
            out.push(parse_scope(scope)?);
        }
    }
    Ok(out)
}

fn parse_scope(scope: &str) -> Result<Requested, String> {
    let shown: String = scope.chars().take(80).collect();
    if scope.len() > MAX_SCOPE_LEN {
        return Err(format!("the scope \"{shown}…\" is longer than {MAX_SCOPE_LEN} bytes"));
    }
    let form = "write scopes as repository:<name>:<actions> or registry:catalog:*";
    // type:name:actions, where the name may itself hold a `:port`-less path; the actions
    // are after the last colon, the type before the first.
    let (kind, rest) = scope
        .split_once(':')
        .ok_or_else(|| format!("\"{shown}\" is not a scope; {form}"))?;
    let (name, actions) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("\"{shown}\" is not a scope; {form}"))?;
    if kind.is_empty() || name.is_empty() {
        return Err(format!("\"{shown}\" is not a scope; {form}"));
    }
    let actions: Vec<String> = actions
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    match kind {
        "repository" => {
            let name = RepositoryName::parse(name).map_err(|e| format!("in the scope \"{shown}\": {e}"))?;
            Ok(Requested::Repository { name, actions })
        }
        "registry" if name == "catalog" => Ok(Requested::Catalog),
        _ => Ok(Requested::Other(scope.to_owned())),
    }
}

/// What `access` allows of `requested`, as the token's `access` claim. Entries with no
/// allowed action are kept with an empty list, as the reference token service does.
pub fn allowed(access: &Access, requested: &[Requested]) -> Vec<AccessEntry> {
    requested
        .iter()
        .filter_map(|r| match r {
            Requested::Repository { name, actions } => {
                let mut granted: Vec<String> = Vec::new();
                let mut give = |action: &str| {
                    if !granted.iter().any(|g| g == action) {
                        granted.push(action.to_owned());
                    }
                };
                for asked in actions {
                    match asked.as_str() {
                        "pull" if access.may(Action::Pull, name) => give("pull"),
                        "push" if access.may(Action::Push, name) => give("push"),
                        "delete" if access.may(Action::Delete, name) => give("delete"),
                        // `*` is everything; give what the level allows, by name.
                        "*" => {
                            for (action, needs) in [
                                ("pull", Action::Pull),
                                ("push", Action::Push),
                                ("delete", Action::Delete),
                            ] {
                                if access.may(needs, name) {
                                    give(action);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Some(AccessEntry {
                    kind: "repository".into(),
                    name: name.to_string(),
                    actions: granted,
                })
            }
            Requested::Catalog => Some(AccessEntry {
                kind: "registry".into(),
                name: "catalog".into(),
                actions: if access.admin { vec!["*".into()] } else { Vec::new() },
            }),
            Requested::Other(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Grant, Level, Name, Policy, Rules, Scope, Subject, Viewer};

    fn access_of(user: &str, groups: &[&str], admin: bool) -> Access {
        let grant = |subject: &str, scope: &str, level: Level| Grant {
            subject: Subject::parse(subject).unwrap(),
            scope: Scope::parse(scope).unwrap(),
            level,
        };
        let policy = Policy::new(
            vec![
                grant("user:jane", "skyfield", Level::Write),
                grant("group:qa", "skyfield", Level::Read),
                grant("user:ops", "skyfield", Level::Delete),
                grant("anonymous", "public/*", Level::Read),
            ],
            Rules::default(),
        );
        let viewer = if user.is_empty() {
            Viewer::anonymous()
        } else {
            Viewer {
                user: Some(Name::parse(user).unwrap()),
                admin,
                groups: groups.iter().map(|g| (Name::parse(g).unwrap(), false)).collect(),
            }
        };
        policy.for_viewer(&viewer)
    }

    fn actions(access: &Access, scope: &str) -> Vec<String> {
        let requested = parse_scopes([scope]).unwrap();
        allowed(access, &requested)
            .into_iter()
            .flat_map(|e| e.actions)
            .collect()
    }

    #[test]
    fn each_member_of_sarahs_team_gets_what_the_screens_say() {
        let jane = access_of("jane", &[], false);
        let greg = access_of("greg", &["qa"], false);
        let ops = access_of("ops", &[], false);
        let stranger = access_of("", &[], false);
        assert_eq!(actions(&jane, "repository:skyfield:pull,push"), ["pull", "push"]);
        assert_eq!(actions(&greg, "repository:skyfield:pull,push"), ["pull"]);
        assert!(actions(&greg, "repository:skyfield:delete").is_empty());
        assert!(actions(&stranger, "repository:skyfield:pull").is_empty());
        assert_eq!(actions(&stranger, "repository:public/tools:pull"), ["pull"]);
        assert_eq!(actions(&ops, "repository:skyfield:*"), ["pull", "push", "delete"]);
        assert_eq!(actions(&jane, "repository:skyfield:*"), ["pull", "push"]);
        assert_eq!(actions(&jane, "repository:users/jane/x:delete"), ["delete"]);
    }

    #[test]
    fn only_global_admins_read_the_catalog() {
        assert_eq!(actions(&access_of("root", &[], true), "registry:catalog:*"), ["*"]);
        assert!(actions(&access_of("jane", &[], false), "registry:catalog:*").is_empty());
    }

    #[test]
    fn a_mount_challenge_carries_two_scopes_in_one_parameter() {
        let jane = access_of("jane", &[], false);
        let requested = parse_scopes(["repository:skyfield:push,pull repository:public/base:pull"]).unwrap();
        let granted = allowed(&jane, &requested);
        assert_eq!(granted.len(), 2);
        assert_eq!(granted[1].name, "public/base");
        assert_eq!(granted[1].actions, ["pull"]);
    }

    #[test]
    fn malformed_scopes_are_refused_with_what_to_write_and_unknown_types_get_nothing() {
        for bad in [
            "repository",
            "repository:skyfield",
            ":skyfield:pull",
            "repository::pull",
            "repository:Skyfield:pull",
            "repository:sky field:pull",
        ] {
            let e = parse_scopes([bad]).unwrap_err();
            assert!(e.contains("scope"), "{bad}: {e}");
        }
        let huge = vec!["repository:a:pull"; MAX_SCOPES + 1].join(" ");
        assert!(parse_scopes([huge.as_str()]).unwrap_err().contains("too many scopes"));
        let long = format!("repository:{}:pull", "a".repeat(MAX_SCOPE_LEN));
        assert!(parse_scopes([long.as_str()]).unwrap_err().contains("longer than"));
        let other = parse_scopes(["registry:other:*", "repository(plugin):skyfield:pull"]).unwrap();
        assert!(allowed(&access_of("root", &[], true), &other).is_empty());
        assert!(parse_scopes(["", " "]).unwrap().is_empty());
    }
}
