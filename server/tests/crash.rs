//! `kill -9` in the middle of a burst: the `regent` binary is killed (SIGKILL, no shutdown)
//! while administrators create users, add them to a group and grant them access, and docker
//! clients ask for tokens, all at once. Started again on the same data directory, it has
//! every change it answered "done", the database passes SQLite's own check, and no change is
//! half there (each change and its audit record are one transaction: one without the other
//! would be a half-change).

use regent_domain::access::Name;
use regent_domain::store::{Actor, AuditFilter, Store};
use regent_testkit::free_port;
use regent_testkit::regent::RegentProcess;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REGENT: &str = env!("CARGO_BIN_EXE_regent");
const ADMIN_PASSWORD: &str = "the admin password";
const PASSWORD: &str = "a long enough password";
/// Writers and token clients running at once.
const WRITERS: usize = 4;
const TOKEN_CLIENTS: usize = 2;
/// The kill comes once this many changes were answered "done".
const KILL_AFTER: usize = 60;

fn args(data: &std::path::Path) -> Vec<String> {
    // Nothing listens on port 9: the index stays empty, which changes nothing here.
    [
        "--registry-url",
        "http://127.0.0.1:9",
        "--data-dir",
        data.to_str().unwrap(),
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn start(data: &std::path::Path) -> RegentProcess {
    let args = args(data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    RegentProcess::start(REGENT, &format!("127.0.0.1:{}", free_port()), &args).await
}

/// One kind of change a writer makes, and for whom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    User(String),
    Member(String),
    Grant(String),
}

/// A change, the server function that makes it, and its form.
type Step<'a> = (Change, &'static str, Vec<(&'static str, &'a str)>);

/// A signed-in administrator's server-function call; `Some(true)`: answered "done",
/// `Some(false)`: answered otherwise, `None`: no answer (the process is gone).
async fn call(client: &reqwest::Client, base: &str, cookie: &str, path: &str, form: &[(&str, &str)]) -> Option<bool> {
    let r = client
        .post(format!("{base}{path}"))
        .header("origin", base)
        .header("accept", "application/json")
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .ok()?;
    let body: serde_json::Value = r.json().await.ok()?;
    Some(body.get("Done").is_some())
}

#[tokio::test]
async fn killing_regent_in_a_burst_of_grant_changes_and_token_requests_loses_nothing_it_answered_done() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let store = Store::open(&data.join("regent.db")).await.unwrap();
        store.ensure_admin(Some(ADMIN_PASSWORD)).await.unwrap();
        store
            .create_group(&Actor::new("admin", "127.0.0.1"), &Name::parse("crew").unwrap())
            .await
            .unwrap();
    }
    let mut regent = start(&data).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let cookie = admin.cookie().unwrap().to_owned();
    let base = regent.base().to_owned();

    let acknowledged: Arc<Mutex<Vec<Change>>> = Arc::default();
    let tokens = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (client, base, cookie, acknowledged) = (client.clone(), base.clone(), cookie.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            for j in 0..1000 {
                let name = format!("w{w}-{j}");
                let scope = format!("crash/{name}");
                let subject = format!("user:{name}");
                let steps: [Step; 3] = [
                    (
                        Change::User(name.clone()),
                        "/api/admin/change_user",
                        vec![("op", "create"), ("name", &name), ("password", PASSWORD)],
                    ),
                    (
                        Change::Member(name.clone()),
                        "/api/admin/change_group",
                        vec![("op", "add"), ("group", "crew"), ("user", &name)],
                    ),
                    (
                        Change::Grant(name.clone()),
                        "/api/admin/change_grant",
                        vec![
                            ("op", "put"),
                            ("subject", &subject),
                            ("scope", &scope),
                            ("level", "write"),
                        ],
                    ),
                ];
                for (change, path, form) in steps {
                    match call(&client, &base, &cookie, path, &form).await {
                        Some(true) => acknowledged.lock().unwrap().push(change),
                        Some(false) => panic!("{path} {form:?} was refused"),
                        None => return,
                    }
                }
            }
        }));
    }
    for _ in 0..TOKEN_CLIENTS {
        let (client, base, tokens) = (client.clone(), base.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..10_000 {
                let answer = client
                    .get(format!(
                        "{base}/auth/token?service=regent-registry&scope=repository:crash/x:pull,push"
                    ))
                    .basic_auth("admin", Some(ADMIN_PASSWORD))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {
                        tokens.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(r) => panic!("a token request was answered {}", r.status()),
                    Err(_) => return,
                }
            }
        }));
    }
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < KILL_AFTER {
        assert!(started.elapsed() < Duration::from_secs(120), "the burst is too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    regent.kill();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("every client notices the process is gone")
            .unwrap();
    }
    let acknowledged: BTreeSet<Change> = acknowledged.lock().unwrap().iter().cloned().collect();
    assert!(acknowledged.len() >= KILL_AFTER);
    assert!(
        tokens.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "tokens were asked for meanwhile"
    );

    // Started again on the same data: it serves, and has kept everything it said was done.
    let regent = start(&data).await;
    let mut admin = regent.visitor();
    assert!(admin.sign_in("admin", ADMIN_PASSWORD).await);
    let store = Store::open(&data.join("regent.db")).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), ["ok"]);
    let users: BTreeSet<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name.to_string())
        .filter(|n| n.starts_with('w'))
        .collect();
    let members: BTreeSet<String> = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|g| g.members)
        .map(|(m, _)| m.to_string())
        .collect();
    let granted: BTreeSet<String> = store
        .grants()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|g| g.scope.to_string().strip_prefix("crash/").map(str::to_owned))
        .collect();
    let state: BTreeSet<Change> = users
        .iter()
        .cloned()
        .map(Change::User)
        .chain(members.iter().cloned().map(Change::Member))
        .chain(granted.iter().cloned().map(Change::Grant))
        .collect();
    let lost: Vec<&Change> = acknowledged.difference(&state).collect();
    assert!(lost.is_empty(), "answered done, but gone after the restart: {lost:?}");
    // At most one change per writer was under way, unanswered, when the process died; it may
    // or may not have been committed, but nothing else may be there.
    let unanswered: Vec<&Change> = state.difference(&acknowledged).collect();
    assert!(unanswered.len() <= WRITERS, "changes nobody made: {unanswered:?}");

    // No half-changes: each change is there exactly when its audit record is.
    let audited = |action: &'static str| {
        let store = store.clone();
        async move {
            let events = store
                .audit_events(&AuditFilter {
                    action: Some(action.into()),
                    outcome: Some("ok".into()),
                    limit: 500,
                    ..AuditFilter::default()
                })
                .await
                .unwrap();
            assert!(events.len() < 500, "raise the limit");
            events
        }
    };
    let created: BTreeSet<String> = audited("user.create")
        .await
        .into_iter()
        .filter_map(|e| e.target.strip_prefix("user:").map(str::to_owned))
        .filter(|n| n.starts_with('w'))
        .collect();
    assert_eq!(created, users, "users and their user.create records");
    let joined: BTreeSet<String> = audited("group.add_member")
        .await
        .into_iter()
        .filter_map(|e| e.detail.strip_prefix("user:").map(str::to_owned))
        .collect();
    assert_eq!(joined, members, "memberships and their records");
    let put: BTreeSet<String> = audited("grant.put")
        .await
        .into_iter()
        .filter_map(|e| e.target.strip_prefix("crash/").map(str::to_owned))
        .collect();
    assert_eq!(put, granted, "grants and their records");
    // A membership or grant never outlives the user it is for.
    assert!(members.is_subset(&users), "{members:?} {users:?}");
    assert!(granted.is_subset(&users), "{granted:?} {users:?}");
    // And the store counted every change it committed: caches keyed on it stay right.
    let generation = store.generation().await.unwrap();
    let changes = (users.len() + members.len() + granted.len()) as i64;
    assert!(generation >= changes, "generation {generation} < {changes} changes");

    // The restarted Regent serves the kept changes, and tokens as before.
    let (status, html) = admin.get("/admin/groups").await;
    assert_eq!(status, 200);
    for member in &members {
        assert!(html.contains(&format!("data-member=\"{member}\"")), "{member}: {html}");
    }
    let r = reqwest::Client::new()
        .get(format!(
            "{}/auth/token?service=regent-registry&scope=repository:crash/x:pull",
            regent.base()
        ))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
