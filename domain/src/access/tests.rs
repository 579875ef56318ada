//! The access rules as tables, starting with Sarah's story: Josh, Eric and Jane read and
//! write `skyfield`; the QA group (Greg, Frank) only reads it; nobody else sees it.

use super::*;

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn repo(s: &str) -> RepositoryName {
    RepositoryName::parse(s).unwrap()
}

fn grant(subject: &str, scope: &str, level: &str) -> Grant {
    Grant {
        subject: Subject::parse(subject).unwrap(),
        scope: Scope::parse(scope).unwrap(),
        level: Level::parse(level).unwrap(),
    }
}

fn member(user: &str, groups: &[(&str, bool)]) -> Viewer {
    Viewer {
        user: Some(n(user)),
        admin: false,
        groups: groups.iter().map(|(g, owner)| (n(g), *owner)).collect(),
    }
}

fn sarahs_policy() -> Policy {
    Policy::new(
        vec![
            grant("user:josh", "skyfield", "write"),
            grant("user:eric", "skyfield", "write"),
            grant("user:jane", "skyfield", "write"),
            grant("group:qa", "skyfield", "read"),
            grant("anonymous", "public/*", "read"),
            grant("authenticated", "handbook", "read"),
            grant("group:qa", "qa/*", "delete"),
        ],
        Rules::default(),
    )
}

#[test]
fn sarahs_story_as_a_table() {
    let policy = sarahs_policy();
    let sarah = Viewer {
        user: Some(n("sarah")),
        admin: true,
        groups: vec![],
    };
    let qa = [("qa", false)];
    let skyfield = repo("skyfield");
    let cases: [(&str, Viewer, [bool; 5]); 8] = [
        //                                   view  pull  push  delete manage
        ("josh", member("josh", &[]), [true, true, true, false, false]),
        ("eric", member("eric", &[]), [true, true, true, false, false]),
        ("jane", member("jane", &[]), [true, true, true, false, false]),
        ("greg", member("greg", &qa), [true, true, false, false, false]),
        ("frank", member("frank", &qa), [true, true, false, false, false]),
        ("stranger", member("mallory", &[]), [false; 5]),
        ("anonymous", Viewer::anonymous(), [false; 5]),
        ("sarah (admin)", sarah, [true; 5]),
    ];
    let actions = [
        Action::View,
        Action::Pull,
        Action::Push,
        Action::Delete,
        Action::ManageGrants,
    ];
    for (who, viewer, expected) in cases {
        for (action, want) in actions.iter().zip(expected) {
            assert_eq!(
                policy.may(&viewer, *action, &skyfield),
                want,
                "{who} {action:?} skyfield"
            );
        }
    }
}

#[test]
fn the_highest_matching_grant_wins_and_nothing_means_invisible() {
    let policy = sarahs_policy();
    let greg = policy.for_viewer(&member("greg", &[("qa", false)]));
    assert_eq!(greg.level(&repo("skyfield")), Some(Level::Read));
    assert_eq!(greg.level(&repo("qa/tools")), Some(Level::Delete), "namespace grant");
    assert_eq!(greg.level(&repo("qa/tools/deep")), Some(Level::Delete), "and below");
    assert_eq!(
        greg.level(&repo("qa")),
        None,
        "a namespace grant does not cover its own prefix"
    );
    assert_eq!(greg.level(&repo("qatools")), None, "prefix means path components");
    assert_eq!(greg.level(&repo("secret")), None);
    // A user grant and a group grant on one scope: the higher one.
    let both = Policy::new(
        vec![
            grant("group:qa", "skyfield", "read"),
            grant("user:greg", "skyfield", "delete"),
        ],
        Rules::default(),
    );
    assert!(both.may(&member("greg", &[("qa", false)]), Action::Delete, &repo("skyfield")));
}

#[test]
fn public_namespaces_and_signed_in_users() {
    let policy = sarahs_policy();
    let anonymous = policy.for_viewer(&Viewer::anonymous());
    assert!(anonymous.may(Action::Pull, &repo("public/fedora")));
    assert!(!anonymous.may(Action::Push, &repo("public/fedora")));
    assert!(!anonymous.may(Action::View, &repo("handbook")), "authenticated only");
    let anyone = policy.for_viewer(&member("mallory", &[]));
    assert!(anyone.may(Action::View, &repo("handbook")));
    assert!(
        anyone.may(Action::Pull, &repo("public/fedora")),
        "public is public for users too"
    );
}

#[test]
fn built_in_namespaces_for_users_and_groups_can_be_switched_off() {
    let jane = member("jane", &[("devops", false), ("leads", true)]);
    let on = Policy::new(vec![], Rules::default()).for_viewer(&jane);
    assert_eq!(on.level(&repo("users/jane/scratch")), Some(Level::Admin));
    assert_eq!(on.level(&repo("users/josh/scratch")), None);
    assert_eq!(on.level(&repo("groups/devops/ci")), Some(Level::Write), "members write");
    assert_eq!(
        on.level(&repo("groups/leads/plans")),
        Some(Level::Admin),
        "owners administer"
    );
    let off = Policy::new(
        vec![],
        Rules {
            user_namespaces: false,
            group_namespaces: false,
        },
    )
    .for_viewer(&jane);
    assert_eq!(off.level(&repo("users/jane/scratch")), None);
    assert_eq!(off.level(&repo("groups/devops/ci")), None);
}

#[test]
fn subjects_scopes_and_levels_parse_with_messages_that_say_what_to_write() {
    assert_eq!(Subject::parse("group:qa").unwrap().to_string(), "group:qa");
    assert_eq!(Scope::parse("team/**").unwrap(), Scope::parse("team/*").unwrap());
    assert_eq!(Scope::parse("*").unwrap(), Scope::All);
    assert!(
        Scope::parse("Skyfield")
            .unwrap_err()
            .contains("did you mean \"skyfield\"")
    );
    assert!(Subject::parse("qa").unwrap_err().contains("group:<name>"));
    assert!(
        Level::parse("owner")
            .unwrap_err()
            .contains("read, write, delete or admin")
    );
    assert!(Scope::parse("team/*").unwrap().within(&Scope::All));
    assert!(
        Scope::parse("team/app")
            .unwrap()
            .within(&Scope::parse("team/*").unwrap())
    );
    assert!(
        Scope::parse("team/a/*")
            .unwrap()
            .within(&Scope::parse("team/*").unwrap())
    );
    assert!(
        !Scope::parse("team/*")
            .unwrap()
            .within(&Scope::parse("team/app").unwrap())
    );
}

#[test]
fn names_refuse_capitals_look_alikes_and_oversize_input() {
    assert!(Name::parse("greg").is_ok());
    assert!(Name::parse("frank.w").is_ok());
    assert!(
        Name::parse("Josh")
            .unwrap_err()
            .to_string()
            .contains("did you mean \"josh\"")
    );
    // "grеg" with a Cyrillic е (U+0435).
    let e = Name::parse("gr\u{0435}g").unwrap_err().to_string();
    assert!(e.contains("U+0435"), "{e}");
    assert!(Name::parse("").unwrap_err().to_string().contains("required"));
    assert!(
        Name::parse(&"a".repeat(65))
            .unwrap_err()
            .to_string()
            .contains("longer than 64")
    );
    for bad in ["-greg", "greg-", "gr--eg", "gr eg", "gr/eg"] {
        assert!(Name::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn asking_why_greg_can_pull_names_the_group_grant() {
    let policy = sarahs_policy();
    let greg = policy.for_viewer(&member("greg", &[("qa", false)]));
    let why = greg.explain(&repo("skyfield"));
    assert_eq!(
        why,
        vec![(
            Scope::parse("skyfield").unwrap(),
            Level::Read,
            Origin::Grant(Subject::Group(n("qa")))
        )]
    );
    assert_eq!(why[0].2.to_string(), "grant to group:qa");
    let own = greg.explain(&repo("users/greg/tools"));
    assert_eq!(
        own,
        vec![(
            Scope::parse("users/greg/*").unwrap(),
            Level::Admin,
            Origin::OwnNamespace
        )]
    );
    assert!(greg.explain(&repo("secret")).is_empty());
}

#[test]
fn scope_admins_manage_grants_only_inside_their_scopes() {
    let policy = Policy::new(vec![grant("user:lead", "team/*", "admin")], Rules::default());
    let lead = policy.for_viewer(&member("lead", &[("ops", true)]));
    for inside in ["team/app", "team/*", "team/a/*", "users/lead/x", "groups/ops/*"] {
        assert!(lead.administers(&Scope::parse(inside).unwrap()), "{inside}");
    }
    for outside in ["teamx", "team", "*", "other/*", "users/greg/*", "groups/qa/*"] {
        assert!(!lead.administers(&Scope::parse(outside).unwrap()), "{outside}");
    }
    assert_eq!(
        lead.administered().iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["groups/ops/*", "team/*", "users/lead/*"]
    );
    let admin = policy.for_viewer(&Viewer {
        admin: true,
        ..member("root", &[])
    });
    assert!(admin.administers(&Scope::All));
}
