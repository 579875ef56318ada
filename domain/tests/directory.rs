//! The directory module against the real OpenLDAP server of Sarah's company (testkit's
//! `TestDirectory`): who signs in, with which groups, over plain LDAP, StartTLS and LDAPS, how
//! many binds the directory sees, and what happens when it stops answering.

use regent_domain::directory::{Directory, DirectoryError, DirectoryInput, DirectorySettings, Verdict};
use regent_testkit::TestDirectory;
use regent_testkit::directory::{GROUP_BASE, SERVICE_DN, SERVICE_PASSWORD, USER_BASE, password_of};
use std::time::{Duration, Instant};

fn input(directory: &TestDirectory) -> DirectoryInput {
    DirectoryInput {
        url: Some(directory.ldaps_url()),
        ca_file: Some(directory.ca_file().to_path_buf()),
        bind_dn: Some(SERVICE_DN.into()),
        bind_password: Some(SERVICE_PASSWORD.into()),
        user_base: Some(USER_BASE.into()),
        group_base: Some(GROUP_BASE.into()),
        timeout_seconds: Some(2),
        ..Default::default()
    }
}

fn connect(input: DirectoryInput) -> Directory {
    Directory::new(DirectorySettings::parse(input).expect("settings").expect("a directory")).expect("directory")
}

fn dn(user: &str) -> String {
    format!("uid={user},{USER_BASE}")
}

#[tokio::test]
async fn jane_signs_in_over_ldaps_starttls_and_plain_ldap_with_her_nested_groups() {
    let slapd = TestDirectory::start().await.expect("slapd");
    let ways = [
        input(&slapd),
        DirectoryInput {
            url: Some(slapd.ldap_url()),
            starttls: Some(true),
            ..input(&slapd)
        },
        DirectoryInput {
            url: Some(slapd.ldap_url()),
            ca_file: None,
            ..input(&slapd)
        },
    ];
    for way in ways {
        let url = way.url.clone().unwrap();
        let directory = connect(way);
        let verdict = directory.authenticate("jane", &password_of("jane")).await.expect(&url);
        let Verdict::Valid(account) = verdict else {
            panic!("jane at {url}: {verdict:?}")
        };
        assert_eq!(account.dn, dn("jane"));
        assert_eq!(account.groups, ["devops", "engineering"], "engineering holds devops");
        let Verdict::Valid(greg) = directory.authenticate("greg", &password_of("greg")).await.unwrap() else {
            panic!("greg")
        };
        assert_eq!(greg.groups, ["qa"]);
    }
}

#[tokio::test]
async fn wrong_unknown_injected_empty_and_disabled_are_refused_and_an_empty_password_never_binds() {
    let slapd = TestDirectory::start().await.expect("slapd");
    let directory = connect(input(&slapd));
    assert_eq!(
        directory.authenticate("jane", "not-her-password").await.unwrap(),
        Verdict::WrongPassword
    );
    assert_eq!(
        directory.authenticate("nobody", "some-password").await.unwrap(),
        Verdict::Unknown
    );
    assert_eq!(
        directory.authenticate("*)(uid=*", &password_of("jane")).await.unwrap(),
        Verdict::Unknown
    );
    assert_eq!(
        directory.authenticate("*", &password_of("jane")).await.unwrap(),
        Verdict::Unknown
    );
    let binds = slapd.binds_as(&dn("jane"));
    assert_eq!(
        directory.authenticate("jane", "").await.unwrap(),
        Verdict::WrongPassword
    );
    assert_eq!(slapd.binds_as(&dn("jane")), binds, "an empty password is never sent");
    assert_eq!(
        directory.authenticate("olddev", &password_of("olddev")).await.unwrap(),
        Verdict::Disabled
    );
    let checked = directory.look_up("olddev").await.unwrap().expect("olddev is there");
    assert!(checked.disabled);
}

#[tokio::test]
async fn many_token_checks_make_one_bind_and_a_directory_change_shows_after_the_window() {
    let slapd = TestDirectory::start().await.expect("slapd");
    let directory = connect(input(&slapd));
    for _ in 0..50 {
        assert!(matches!(
            directory.authenticate("greg", &password_of("greg")).await.unwrap(),
            Verdict::Valid(_)
        ));
    }
    assert_eq!(slapd.binds_as(&dn("greg")), 1, "one bind for 50 checks");
    assert_eq!(directory.status().user_binds, 1);
    slapd.remove_member("qa", "greg").expect("ldapmodify");
    let looked = directory.look_up("greg").await.unwrap().expect("greg");
    assert!(looked.groups.is_empty(), "the directory says greg left QA: {looked:?}");
    directory.forget("greg");
    let Verdict::Valid(greg) = directory.authenticate("greg", &password_of("greg")).await.unwrap() else {
        panic!("greg")
    };
    assert!(greg.groups.is_empty());
    slapd.disable("greg").expect("ldapmodify");
    directory.forget("greg");
    assert_eq!(
        directory.authenticate("greg", &password_of("greg")).await.unwrap(),
        Verdict::Disabled
    );
}

#[tokio::test]
async fn the_pool_never_opens_more_connections_than_configured() {
    let slapd = TestDirectory::start().await.expect("slapd");
    let directory = std::sync::Arc::new(connect(DirectoryInput {
        pool_size: Some(2),
        ..input(&slapd)
    }));
    // slapd logs the accepts of its own start-up probe a moment later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = slapd.connections();
    let users = ["josh", "eric", "jane", "greg", "frank"];
    let checks = (0..40).map(|i| {
        let directory = directory.clone();
        let user = users[i % users.len()];
        tokio::spawn(async move { directory.look_up(user).await })
    });
    // All spawned before the first is awaited: 40 at once, not one after another.
    let checks: Vec<_> = checks.collect();
    for check in checks {
        assert!(check.await.unwrap().unwrap().is_some());
    }
    let status = directory.status();
    assert_eq!(
        status.opened_connections, 2,
        "the pool was used to its bound, not beyond: {status:?}"
    );
    let accepted = slapd.connections() - before;
    assert!(accepted <= 2, "slapd accepted {accepted}");
    assert_eq!(status.reachable, Some(true));
}

#[tokio::test]
async fn a_stopped_or_hanging_directory_is_named_within_the_timeout() {
    let mut slapd = TestDirectory::start().await.expect("slapd");
    let directory = connect(input(&slapd));
    assert!(matches!(
        directory.authenticate("jane", &password_of("jane")).await.unwrap(),
        Verdict::Valid(_)
    ));
    slapd.pause();
    let started = Instant::now();
    let DirectoryError(message) = directory.authenticate("eric", &password_of("eric")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(
        message.contains(&slapd.ldaps_url()) && message.contains("local accounts still work"),
        "{message}"
    );
    assert_eq!(directory.status().reachable, Some(false));
    slapd.stop();
    let started = Instant::now();
    let DirectoryError(message) = directory.probe().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(message.contains("did not answer"), "{message}");
    slapd.restart().await.expect("slapd again");
    directory.probe().await.expect("back");
    assert_eq!(directory.status().reachable, Some(true));
}

// Signing in through `SignIns`, the path `/login` and the token endpoint share, with the store.

mod signing_in {
    use super::*;
    use regent_domain::access::{Attempt, Door, Name, Refused, SignIns};
    use regent_domain::store::{Actor, AuditFilter, Store};
    use std::sync::Arc;

    const ADMIN_PASSWORD: &str = "sarahs-admin-password";

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    struct Company {
        slapd: TestDirectory,
        store: Store,
        sign_ins: Arc<SignIns>,
        directory: Arc<Directory>,
        _dir: tempfile::TempDir,
    }

    async fn company(window: Duration) -> Company {
        let slapd = TestDirectory::start().await.expect("slapd");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("regent.db")).await.unwrap();
        store.ensure_admin(Some(ADMIN_PASSWORD)).await.unwrap();
        let mut settings = DirectorySettings::parse(input(&slapd)).unwrap().unwrap();
        settings.cache_window = window;
        let directory = Arc::new(Directory::new(settings).unwrap());
        let sign_ins = Arc::new(SignIns::new(store.clone()).with_directory(Some(directory.clone())));
        Company {
            slapd,
            store,
            sign_ins,
            directory,
            _dir: dir,
        }
    }

    impl Company {
        async fn sign_in(
            &self,
            door: Door,
            user: &str,
            password: &str,
        ) -> Result<regent_domain::store::SignedIn, Refused> {
            self.sign_ins
                .sign_in(Attempt {
                    door,
                    user,
                    password,
                    address: "127.0.0.1",
                })
                .await
        }

        async fn audit(&self, action: &str) -> Vec<(String, String, String)> {
            self.store
                .audit_events(&AuditFilter {
                    action: Some(action.into()),
                    limit: 500,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.target, e.outcome, e.detail))
                .collect()
        }
    }

    #[tokio::test]
    async fn jane_signs_in_with_her_directory_password_and_is_a_directory_user_in_devops() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        let jane = c
            .sign_in(Door::Pages, "jane", &password_of("jane"))
            .await
            .expect("jane signs in");
        let groups: Vec<String> = jane.viewer.groups.iter().map(|(g, _)| g.to_string()).collect();
        assert_eq!(groups, ["devops", "engineering"]);
        let user = c.store.user(&n("jane")).await.unwrap().unwrap();
        assert!(user.directory && !user.admin);
        let all = c.store.groups().await.unwrap();
        let devops = all.iter().find(|g| g.name.as_str() == "devops").unwrap();
        assert!(devops.directory);
        let admin = Actor::new("admin", "127.0.0.1");
        let e = c
            .store
            .set_password(&admin, &n("jane"), "a new long password")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("company directory"), "{e}");
        let e = c
            .store
            .add_member(&admin, &n("devops"), &n("admin"), false)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("comes from the company directory"), "{e}");
        c.store.create_group(&admin, &n("release")).await.unwrap();
        c.store
            .add_member(&admin, &n("release"), &n("jane"), false)
            .await
            .unwrap();
        let again = c.sign_in(Door::Registry, "jane", &password_of("jane")).await.unwrap();
        assert_eq!(again.viewer.groups.len(), 3, "a local group keeps its directory member");
        assert!(
            c.audit("directory.sign_in")
                .await
                .iter()
                .any(|(t, o, _)| t == "user:jane" && o == "ok")
        );
        assert!(
            c.audit("user.create")
                .await
                .iter()
                .any(|(t, _, d)| t == "user:jane" && d.contains("from the directory"))
        );
        let admin_in = c
            .sign_in(Door::Pages, "admin", ADMIN_PASSWORD)
            .await
            .expect("the local admin");
        assert!(admin_in.viewer.admin);
    }

    const CACHE_WINDOW_FOR_TESTS: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn wrong_unknown_injected_empty_and_disabled_sign_ins_are_refused_and_audited() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        for (user, password) in [
            ("jane", "not-her-password".to_owned()),
            ("nobody", "some-password".to_owned()),
            ("*)(uid=*", password_of("jane")),
            ("jane", String::new()),
            ("olddev", password_of("olddev")),
        ] {
            let refused = c.sign_in(Door::Registry, user, &password).await.unwrap_err();
            assert_eq!(refused, Refused::WrongCredentials, "{user:?}");
        }
        assert!(
            c.store.user(&n("olddev")).await.unwrap().is_none(),
            "a disabled user gets no row"
        );
        assert!(c.audit("login").await.iter().filter(|(_, o, _)| o == "refused").count() >= 4);
    }

    #[tokio::test]
    async fn greg_removed_from_qa_in_the_directory_loses_qa_and_a_disabled_user_s_sessions_end() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        let greg = c.sign_in(Door::Registry, "greg", &password_of("greg")).await.unwrap();
        assert_eq!(greg.viewer.groups, [(n("qa"), false)]);
        c.slapd.remove_member("qa", "greg").unwrap();
        tokio::time::sleep(CACHE_WINDOW_FOR_TESTS * 2).await;
        let greg_now = c.sign_in(Door::Registry, "greg", &password_of("greg")).await.unwrap();
        assert!(greg_now.viewer.groups.is_empty(), "{:?}", greg_now.viewer);
        assert!(
            c.audit("group.remove_member")
                .await
                .iter()
                .any(|(t, _, d)| t == "group:qa" && d.contains("user:greg")),
            "the group change is audited"
        );
        let qa = c
            .store
            .groups()
            .await
            .unwrap()
            .into_iter()
            .find(|g| g.name.as_str() == "qa")
            .unwrap();
        assert!(qa.members.is_empty(), "the group stays, without greg");
        let session = greg_now.credential.clone();
        assert!(c.store.viewer_for(&session).await.unwrap().is_some());
        c.slapd.disable("greg").unwrap();
        tokio::time::sleep(CACHE_WINDOW_FOR_TESTS * 2).await;
        let refused = c
            .sign_in(Door::Registry, "greg", &password_of("greg"))
            .await
            .unwrap_err();
        assert_eq!(refused, Refused::WrongCredentials);
        assert!(
            c.store.viewer_for(&session).await.unwrap().is_none(),
            "his sessions ended"
        );
        assert!(
            c.store.user(&n("greg")).await.unwrap().is_some(),
            "Regent keeps his row"
        );
        assert!(
            c.audit("directory.refused")
                .await
                .iter()
                .any(|(t, _, d)| t == "user:greg" && d.contains("disabled"))
        );
    }

    #[tokio::test]
    async fn a_name_both_local_and_in_the_directory_is_refused_until_an_administrator_resolves_it() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        let admin = Actor::new("admin", "127.0.0.1");
        c.store
            .create_user(&admin, &n("frank"), "franks-local-password", false)
            .await
            .unwrap();
        for password in ["franks-local-password".to_owned(), password_of("frank")] {
            let refused = c.sign_in(Door::Pages, "frank", &password).await;
            let Err(Refused::NameClash(message)) = refused else {
                panic!("a clash, not {refused:?}")
            };
            assert!(
                message.contains("both a local Regent user and a user of the company directory"),
                "{message}"
            );
        }
        c.store.delete_user(&admin, &n("frank")).await.unwrap();
        let frank = c
            .sign_in(Door::Pages, "frank", &password_of("frank"))
            .await
            .expect("resolved");
        assert_eq!(
            frank.viewer.groups.len(),
            2,
            "qa and engineering: {:?}",
            frank.viewer.groups
        );
    }

    #[tokio::test]
    async fn many_tokens_at_once_make_one_bind_per_user() {
        let c = company(Duration::from_secs(60)).await;
        let asks = (0..40).map(|_| {
            let sign_ins = c.sign_ins.clone();
            tokio::spawn(async move {
                let password = password_of("eric");
                sign_ins
                    .sign_in(Attempt {
                        door: Door::Registry,
                        user: "eric",
                        password: &password,
                        address: "127.0.0.1",
                    })
                    .await
                    .is_ok()
            })
        });
        let asks: Vec<_> = asks.collect();
        for ask in asks {
            assert!(ask.await.unwrap());
        }
        assert_eq!(c.slapd.binds_as(&dn("eric")), 1);
    }

    #[tokio::test]
    async fn with_the_directory_stopped_the_local_admin_signs_in_and_directory_users_are_told_why() {
        let mut c = company(CACHE_WINDOW_FOR_TESTS).await;
        c.slapd.stop();
        let started = Instant::now();
        let Refused::DirectoryDown(message) = c.sign_in(Door::Pages, "josh", &password_of("josh")).await.unwrap_err()
        else {
            panic!("the directory is down")
        };
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            message.contains(&c.slapd.ldaps_url()) && message.contains("local accounts still work"),
            "{message}"
        );
        let admin = c
            .sign_in(Door::Pages, "admin", ADMIN_PASSWORD)
            .await
            .expect("the admin is never locked out");
        assert!(admin.viewer.admin);
        assert_eq!(c.directory.status().reachable, Some(false));
    }

    #[tokio::test]
    async fn while_the_directory_hangs_simultaneous_sign_ins_of_one_user_each_answer_within_the_timeout() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        c.slapd.pause();
        let started = Instant::now();
        // Eight `docker login`s of the same user at once, the directory timeout is 2 s: each
        // answers "did not answer" within about one timeout, not one timeout each in a queue.
        let asks = (0..8).map(|_| {
            let sign_ins = c.sign_ins.clone();
            tokio::spawn(async move {
                let password = password_of("josh");
                let answer = sign_ins
                    .sign_in(Attempt {
                        door: Door::Registry,
                        user: "josh",
                        password: &password,
                        address: "127.0.0.1",
                    })
                    .await;
                (answer.map(|_| ()), started.elapsed())
            })
        });
        let asks: Vec<_> = asks.collect();
        for ask in asks {
            let (answer, took) = ask.await.unwrap();
            let Err(Refused::DirectoryDown(message)) = answer else {
                panic!("the directory hangs: {answer:?}")
            };
            assert!(message.contains("local accounts still work"), "{message}");
            assert!(took < Duration::from_millis(3500), "answered after {took:?}");
        }
        assert_eq!(
            c.directory.status().failures,
            1,
            "one ask of the directory answered all eight"
        );
        c.slapd.resume();
    }

    #[tokio::test]
    async fn forty_directory_users_signing_in_for_the_first_time_at_once_all_get_in() {
        let c = company(CACHE_WINDOW_FOR_TESTS).await;
        let testers = c.slapd.add_users("tester", 40, "qa").expect("40 more QA users");
        // Each makes its Regent user and joins qa in one write: the writes queue for SQLite's
        // lock instead of failing with "database is locked".
        let asks: Vec<_> = testers
            .iter()
            .enumerate()
            .map(|(i, user)| {
                let (sign_ins, user) = (c.sign_ins.clone(), user.clone());
                tokio::spawn(async move {
                    let password = password_of(&user);
                    let address = format!("127.0.0.{}", 2 + i);
                    let answer = sign_ins
                        .sign_in(Attempt {
                            door: Door::Registry,
                            user: &user,
                            password: &password,
                            address: &address,
                        })
                        .await;
                    (user, answer.map(|_| ()))
                })
            })
            .collect();
        for ask in asks {
            let (user, answer) = ask.await.unwrap();
            assert_eq!(answer, Ok(()), "{user}");
        }
        let members = c.store.groups().await.unwrap();
        let qa = members.iter().find(|g| g.name.as_str() == "qa").unwrap();
        assert!(qa.directory);
        for user in &testers {
            assert!(c.store.user(&n(user)).await.unwrap().is_some(), "{user}");
        }
    }
}
