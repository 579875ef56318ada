//! The token service's scope parser and grant decision on arbitrary input, against a policy
//! with grants: it must never panic, must refuse or accept within its limits, and must never
//! give an action the policy does not allow. The referee is written out by hand below from the
//! grants (plain string prefixes), not computed with the policy's own scope matching, so a bug
//! there shows up here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regent_domain::access::{Access, Grant, Level, Name, Policy, Rules, Scope, Subject, Viewer};
use regent_domain::token::{MAX_SCOPES, allowed, parse_scopes};
use std::sync::OnceLock;

/// anonymous: read `public/*`; jane: write `team/app`; group qa: delete `qa/*`; plus the
/// built-in rules (own `users/<name>/*` admin, `groups/<group>/*` write for members).
fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let grant = |subject: Subject, scope: &str, level: Level| Grant {
            subject,
            scope: Scope::parse(scope).unwrap(),
            level,
        };
        Policy::new(
            vec![
                grant(Subject::Anonymous, "public/*", Level::Read),
                grant(Subject::User(Name::parse("jane").unwrap()), "team/app", Level::Write),
                grant(Subject::Group(Name::parse("qa").unwrap()), "qa/*", Level::Delete),
            ],
            Rules::default(),
        )
    })
}

fn viewer(user: Option<&str>, groups: &[&str]) -> Viewer {
    Viewer {
        user: user.map(|u| Name::parse(u).unwrap()),
        admin: false,
        groups: groups.iter().map(|g| (Name::parse(g).unwrap(), false)).collect(),
    }
}

/// The highest action each viewer may take on `repository`, by hand: 0 none, 1 pull, 2 push,
/// 3 delete.
fn referee(who: &str, repository: &str) -> u8 {
    let under = |prefix: &str| repository.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    let mut level = 0;
    if under("public") {
        level = 1;
    }
    match who {
        "jane" => {
            if repository == "team/app" {
                level = level.max(2);
            }
            if under("users/jane") {
                level = 3;
            }
        }
        "greg" => {
            if under("qa") || under("users/greg") {
                level = 3;
            }
            if under("groups/qa") {
                level = level.max(2);
            }
        }
        _ => {}
    }
    level
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let params: Vec<&str> = text.split('&').collect();
    let Ok(scopes) = parse_scopes(params.iter().copied()) else { return };
    assert!(scopes.len() <= MAX_SCOPES);
    for (who, viewer) in [
        ("anonymous", viewer(None, &[])),
        ("jane", viewer(Some("jane"), &[])),
        ("greg", viewer(Some("greg"), &["qa"])),
    ] {
        let access: Access = policy().for_viewer(&viewer);
        for entry in allowed(&access, &scopes) {
            if entry.kind != "repository" {
                assert!(entry.actions.is_empty(), "{who} is no administrator: {entry:?}");
                continue;
            }
            let most = referee(who, &entry.name);
            for action in &entry.actions {
                let needs = match action.as_str() {
                    "pull" => 1,
                    "push" => 2,
                    "delete" => 3,
                    other => panic!("{who} was given an action by another name: {other}"),
                };
                assert!(needs <= most, "{who} was given {action} on {}", entry.name);
            }
        }
    }
    let everything = Access::everything();
    for entry in allowed(&everything, &scopes) {
        assert!(entry.actions.iter().all(|a| ["pull", "push", "delete", "*"].contains(&a.as_str())));
    }
});
