//! A small pool of connections to the company directory, bound as Regent's service account
//! when they search and as a user when checking a password.
//!
//! At most `directory.pool_size` connections exist at any moment (a semaphore hands out the
//! right to hold one), so a burst of sign-ins queues here instead of opening hundreds of
//! connections to the domain controller. A connection is put back only after an operation
//! finished cleanly; one that failed, timed out or was abandoned half-way is dropped, and the
//! next lease opens a fresh one.

use super::settings::{DirectorySettings, Transport};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, SemaphorePermit};

struct Idle {
    ldap: Ldap,
    /// Bound as the service account (a user bind leaves it bound as that user).
    as_service: bool,
}

pub(super) struct Pool {
    settings: Arc<DirectorySettings>,
    tls: Option<Arc<rustls::ClientConfig>>,
    permits: Semaphore,
    idle: Mutex<Vec<Idle>>,
    /// Connections open now (leased or idle).
    open: Arc<AtomicUsize>,
    /// Connections opened since start.
    opened: AtomicUsize,
}

impl Pool {
    pub(super) fn new(settings: Arc<DirectorySettings>) -> Result<Self, String> {
        let tls = match &settings.ca_file {
            Some(path) => Some(Arc::new(tls_config(path)?)),
            None => None,
        };
        Ok(Self {
            permits: Semaphore::new(settings.pool_size),
            settings,
            tls,
            idle: Mutex::new(Vec::new()),
            open: Arc::new(AtomicUsize::new(0)),
            opened: AtomicUsize::new(0),
        })
    }

    /// A connection (waiting for a free place in the pool), not yet bound for anything.
    pub(super) async fn lease(&self) -> Result<Lease<'_>, LdapError> {
        let permit = self
            .permits
            .acquire()
            .await
            .expect("the pool's semaphore is never closed");
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (ldap, as_service) = match idle {
            Some(mut i) => {
                if i.ldap.is_closed() {
                    self.open.fetch_sub(1, Ordering::SeqCst);
                    (self.connect().await?, false)
                } else {
                    (i.ldap, i.as_service)
                }
            }
            None => (self.connect().await?, false),
        };
        Ok(Lease {
            pool: self,
            ldap: Some(ldap),
            as_service,
            clean: false,
            _permit: permit,
        })
    }

    async fn connect(&self) -> Result<Ldap, LdapError> {
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(self.settings.timeout)
            .set_starttls(self.settings.transport == Transport::StartTls);
        if let Some(config) = &self.tls {
            settings = settings.set_config(config.clone());
        }
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &self.settings.url).await?;
        let open = self.open.clone();
        open.fetch_add(1, Ordering::SeqCst);
        self.opened.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "a directory connection ended");
            }
        });
        Ok(ldap)
    }

    /// Connections open now, and opened since start.
    pub(super) fn connections(&self) -> (usize, usize) {
        (self.open.load(Ordering::SeqCst), self.opened.load(Ordering::SeqCst))
    }
}

/// The right to use one connection; it goes back to the pool when dropped after a clean
/// operation, and is closed otherwise.
pub(super) struct Lease<'a> {
    pool: &'a Pool,
    ldap: Option<Ldap>,
    as_service: bool,
    clean: bool,
    _permit: SemaphorePermit<'a>,
}

impl Lease<'_> {
    fn ldap(&mut self) -> &mut Ldap {
        self.clean = false;
        let timeout = self.pool.settings.timeout;
        let ldap = self.ldap.as_mut().expect("a lease holds its connection until dropped");
        ldap.with_timeout(timeout);
        ldap
    }

    /// The connection bound as the service account, for searches.
    pub(super) async fn service(&mut self) -> Result<&mut Ldap, LdapError> {
        if !self.as_service {
            let (dn, password) = (
                self.pool.settings.bind_dn.clone(),
                self.pool.settings.bind_password.clone(),
            );
            self.ldap().simple_bind(&dn, &password).await?.success()?;
            self.as_service = true;
        }
        self.clean = false;
        let timeout = self.pool.settings.timeout;
        let ldap = self.ldap.as_mut().expect("held");
        ldap.with_timeout(timeout);
        Ok(ldap)
    }

    /// Marks the last operation as finished cleanly: the connection may be reused.
    pub(super) fn done(&mut self) {
        self.clean = true;
    }

    /// Binds as `dn` with `password`: `Ok(true)` when the directory accepts it, `Ok(false)`
    /// for invalid credentials (result code 49). Never call with an empty password: that is an
    /// unauthenticated bind, which some servers answer with success (RFC 4513 §5.1.2).
    pub(super) async fn bind_as(&mut self, dn: &str, password: &str) -> Result<bool, LdapError> {
        debug_assert!(!password.is_empty());
        self.as_service = false;
        let result = self.ldap().simple_bind(dn, password).await?;
        self.clean = true;
        match result.rc {
            0 => Ok(true),
            49 => Ok(false),
            _ => result.success().map(|_| true),
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(ldap) = self.ldap.take() else { return };
        if self.clean {
            self.pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(Idle {
                ldap,
                as_service: self.as_service,
            });
        } else {
            self.pool.open.fetch_sub(1, Ordering::SeqCst);
            let mut ldap = ldap;
            tokio::spawn(async move {
                let _ = ldap.unbind().await;
            });
        }
    }
}

/// TLS that trusts only the CA certificates in `path` (PEM), for `ldaps://` and StartTLS.
fn tls_config(path: &std::path::Path) -> Result<rustls::ClientConfig, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let shown = path.display();
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("directory.ca_file {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("directory.ca_file {shown}: {e}"))?;
    if certificates.is_empty() {
        return Err(format!("directory.ca_file {shown} holds no PEM certificate"));
    }
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|e| format!("directory.ca_file {shown}: {e}"))?;
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS for the directory: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
