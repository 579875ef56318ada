//! The real Debian `docker-registry` (distribution 2.8), one per test, on loopback.
//!
//! Each instance gets a temp dir with its own `config.yml` and filesystem storage and a free
//! port on 127.0.0.1. It can be stopped and started again on the same port and data, which is
//! how tests take the registry away from Regent and bring it back.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use url::Url;

pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// How clients authenticate to the test registry.
#[derive(Debug, Clone, Default)]
pub enum RegistryAuth {
    #[default]
    None,
    /// htpasswd (bcrypt) users; the registry then takes HTTP Basic directly.
    Htpasswd(Vec<(String, String)>),
    /// Docker token auth pointing at an external token service.
    Token {
        realm: String,
        service: String,
        issuer: String,
        rootcertbundle: PathBuf,
    },
}

#[derive(Debug, Clone)]
pub struct RegistryOptions {
    pub auth: RegistryAuth,
    pub delete_enabled: bool,
    /// Keep the data in this directory instead of a fresh temp dir.
    pub dir: Option<PathBuf>,
    pub port: Option<u16>,
    /// Send notifications to this URL with this `Authorization` header value.
    pub notify: Option<(String, String)>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            auth: RegistryAuth::None,
            delete_enabled: true,
            dir: None,
            port: None,
            notify: None,
        }
    }
}

pub struct TestRegistry {
    options: RegistryOptions,
    port: u16,
    dir: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    _temp: Option<tempfile::TempDir>,
}

impl TestRegistry {
    /// A registry without auth, deletes enabled, in a fresh temp dir.
    pub async fn start() -> Result<Self> {
        Self::start_with(RegistryOptions::default()).await
    }

    pub async fn start_with(options: RegistryOptions) -> Result<Self> {
        if !Path::new(REGISTRY_BINARY).exists() {
            bail!("{REGISTRY_BINARY} is missing: apt-get install docker-registry (scripts/setup does it)");
        }
        let (temp, dir) = match options.dir.clone() {
            Some(d) => {
                std::fs::create_dir_all(&d)?;
                (None, d)
            }
            None => {
                let t = tempfile::Builder::new().prefix("regent-registry-").tempdir()?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        let port = options.port.unwrap_or_else(crate::free_port);
        let config = dir.join("config.yml");
        std::fs::write(&config, config_yaml(&dir, port, &options)?)?;
        let mut registry = Self {
            options,
            port,
            dir,
            config,
            child: None,
            _temp: temp,
        };
        registry.run().await?;
        Ok(registry)
    }

    /// `http://127.0.0.1:<port>/`
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}/", self.port)).expect("loopback URL")
    }

    /// `127.0.0.1:<port>`, the form skopeo wants.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// Kills the registry process; data stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same data.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop();
        self.run().await
    }

    /// Rewrites the config to send notifications to `url` with this `Authorization` value and
    /// restarts on the same port and data.
    pub async fn notify(&mut self, url: &str, authorization: &str) -> Result<()> {
        self.options.notify = Some((url.to_owned(), authorization.to_owned()));
        std::fs::write(&self.config, config_yaml(&self.dir, self.port, &self.options)?)?;
        self.restart().await
    }

    async fn run(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("registry.log"))?;
        let child = Command::new(REGISTRY_BINARY)
            .arg("serve")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {REGISTRY_BINARY}"))?;
        let url = self.url().join("v2/")?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        let log = self.dir.join("registry.log");
        let child = self.child.insert(child);
        // The registry usually answers within 100 ms.
        crate::wait_until_serving("docker-registry", child, &log, || {
            let answer = http.get(url.clone()).send();
            async move { answer.await.is_ok() }
        })
        .await
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config_yaml(dir: &Path, port: u16, options: &RegistryOptions) -> Result<String> {
    let auth = match &options.auth {
        RegistryAuth::None => String::new(),
        RegistryAuth::Htpasswd(users) => {
            let mut lines = String::new();
            for (user, password) in users {
                let hash = bcrypt::hash_with_result(password, 4)?.format_for_version(bcrypt::Version::TwoY);
                lines.push_str(&format!("{user}:{hash}\n"));
            }
            let path = dir.join("htpasswd");
            std::fs::write(&path, lines)?;
            format!(
                "auth:\n  htpasswd:\n    realm: regent-test\n    path: {}\n",
                path.display()
            )
        }
        RegistryAuth::Token {
            realm,
            service,
            issuer,
            rootcertbundle,
        } => format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    rootcertbundle: {}\n",
            rootcertbundle.display()
        ),
    };
    // `mediatypes` must not be empty: distribution 2.8 skips the `actions` filter when it is
    // (distribution/distribution#4729), and then every pull queues ahead of pushes.
    let notifications = match &options.notify {
        None => String::new(),
        Some((url, authorization)) => format!(
            "notifications:\n  events:\n    includereferences: true\n  endpoints:\n    - name: regent\n      \
             url: {url}\n      ignore:\n        mediatypes: [application/octet-stream]\n        actions: [pull]\n      headers:\n        Authorization: [\"{authorization}\"]\n      timeout: 2s\n      \
             threshold: 5\n      backoff: 1s\n"
        ),
    };
    Ok(format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: {delete}\n  \
         cache:\n    blobdescriptor: inmemory\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: regent-test-secret\n\
         {auth}{notifications}",
        data = dir.join("data").display(),
        delete = options.delete_enabled,
    ))
}
