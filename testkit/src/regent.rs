//! The `regent` binary as a running process, for tests and benchmarks that drive it over HTTP.
//!
//! The caller passes the binary's path (`env!("CARGO_BIN_EXE_regent")`); the process gets a
//! clean environment (no `REGENT_*` from the caller), is killed and reaped on drop, and offers
//! the waits every caller needs: until it answers, until its first index crawl has finished,
//! until a page shows something. Its log is dropped unless `REGENT_PROCESS_LOG=<file>` is set.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `regent` at `binary` with `args`, `REGENT_*` variables of the caller removed.
pub fn command(binary: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("REGENT_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Where the process's log goes: the file named by `REGENT_PROCESS_LOG` (appended), else nowhere.
fn log_output() -> Stdio {
    let Some(path) = std::env::var_os("REGENT_PROCESS_LOG") else {
        return Stdio::null();
    };
    match std::fs::OpenOptions::new().create(true).append(true).open(&path) {
        Ok(file) => Stdio::from(file),
        Err(e) => panic!("REGENT_PROCESS_LOG={}: {e}", path.to_string_lossy()),
    }
}

pub struct RegentProcess {
    child: Child,
    base: String,
}

impl RegentProcess {
    /// Starts it listening on `listen` (`127.0.0.1:port`) and waits (10 s at most) until it answers.
    pub async fn start(binary: &str, listen: &str, args: &[&str]) -> Self {
        Self::start_with_env(binary, listen, args, &[]).await
    }

    /// [`RegentProcess::start`] with environment variables set for the process.
    pub async fn start_with_env(binary: &str, listen: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all = vec!["--listen", listen];
        all.extend_from_slice(args);
        let child = command(binary, &all)
            .envs(env.iter().copied())
            .stdout(log_output())
            .stderr(log_output())
            .spawn()
            .expect("start regent");
        // Owned from here on, so the process is killed and reaped even if start-up fails.
        let process = Self {
            child,
            base: format!("http://{listen}"),
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", process.base)).await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("regent did not start on {listen}");
    }

    /// Kills the process with SIGKILL at once (no shutdown, no destructors: a crash or
    /// `kill -9`) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `http://127.0.0.1:<port>`
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The process id, to read its memory from `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of `/proc/<pid>/status` in KiB: `VmRSS` (resident now) or `VmHWM` (the peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Waits (`seconds` at most) until the first index crawl has finished.
    pub async fn index_complete(&self, seconds: u64) {
        for _ in 0..seconds * 10 {
            let body = self.try_get("/readyz").await.map(|(_, b)| b).unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            if json["index"]["complete"] == true {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the index did not finish its first crawl within {seconds} s");
    }

    /// Fetches `path` every `every` until its body contains `needle` (`limit` at most);
    /// returns the body. A poll that races a closing keep-alive connection just polls again.
    pub async fn get_until(&self, path: &str, needle: &str, every: Duration, limit: Duration) -> String {
        let started = std::time::Instant::now();
        let mut body = String::new();
        while started.elapsed() < limit {
            if let Some((_, b)) = self.try_get(path).await {
                body = b;
                if body.contains(needle) {
                    return body;
                }
            }
            tokio::time::sleep(every).await;
        }
        panic!("{path} never showed {needle:?} within {limit:?}; last body:\n{body}");
    }

    /// A visitor without a browser, not signed in yet.
    pub fn visitor(&self) -> Visitor<'_> {
        Visitor {
            regent: self,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            cookie: None,
        }
    }

    /// Status and body of `GET path`.
    pub async fn get(&self, path: &str) -> (u16, String) {
        self.try_get(path).await.unwrap_or_else(|| panic!("GET {path} failed"))
    }

    async fn try_get(&self, path: &str) -> Option<(u16, String)> {
        let r = reqwest::get(format!("{}{path}", self.base)).await.ok()?;
        let status = r.status().as_u16();
        Some((status, r.text().await.ok()?))
    }
}

/// Someone using Regent over plain HTTP, as a page without JavaScript would: forms posted from
/// Regent's own origin, and the session cookie kept between requests.
pub struct Visitor<'a> {
    regent: &'a RegentProcess,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Visitor<'_> {
    /// Signs in through `/api/login`; returns whether Regent let them in (a session cookie
    /// is set only then).
    pub async fn sign_in(&mut self, user: &str, password: &str) -> bool {
        let r = self
            .post_form("/api/login", &[("username", user), ("password", password)])
            .await;
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .filter(|c| c.starts_with("regent_session="))
            .map(str::to_owned);
        let welcome = cookie.is_some();
        if welcome {
            self.cookie = cookie;
        }
        welcome
    }

    /// This visitor carrying an existing session cookie (`regent_session=…`).
    pub fn with_session(mut self, cookie: &str) -> Self {
        self.cookie = Some(cookie.to_owned());
        self
    }

    /// The session cookie (`regent_session=…`), once signed in.
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// Status and body of `GET path` with the session cookie.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .with_cookie(self.client.get(format!("{}{path}", self.regent.base)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    /// `POST path` as an HTML form from Regent's own pages.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.with_cookie(self.client.post(format!("{}{path}", self.regent.base)))
            .header("origin", &self.regent.base)
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Calls the server function at `path` as the hydrated page does, returning its JSON answer.
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let (status, body) = self.answer(path, form).await;
        assert!(status.is_success(), "POST {path} {form:?}: {status}\n{body}");
        body
    }

    /// As `call`, for an answer that may be an error: its status and its JSON body.
    pub async fn answer(&self, path: &str, form: &[(&str, &str)]) -> (reqwest::StatusCode, serde_json::Value) {
        let r = self
            .with_cookie(self.client.post(format!("{}{path}", self.regent.base)))
            .header("origin", &self.regent.base)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        let value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST {path} ({status}): not JSON ({e}): {body}"));
        (status, value)
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        }
    }
}

impl Drop for RegentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lets everyone read every repository (`regent grant add anonymous '*' read`), for tests and
/// benchmarks about pages rather than about access. Run before or while Regent runs.
pub fn make_public(binary: &str, data_dir: &std::path::Path) {
    let dir = data_dir.to_str().expect("a UTF-8 path");
    let out = command(binary, &["--data-dir", dir, "grant", "add", "anonymous", "*", "read"])
        .output()
        .expect("run regent grant");
    assert!(
        out.status.success(),
        "regent grant failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
