//! The `regent` binary: reads settings, builds the domain services, serves the UI and the
//! machine endpoints until it is told to stop.

mod body_limit;
mod client;
mod cluster;
mod commands;
mod config;
mod csrf;
mod events;
mod health;
mod metrics;
mod secure_cookie;
mod shutdown;
mod token;

use axum::Extension;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use clap::Parser;
use config::{Cli, Command, Settings};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use regent_app::state::AppState;
use regent_app::{App, shell};
use regent_domain::access::Client;
use regent_domain::index::CatalogIndex;
use regent_domain::registry::RegistryClient;
use regent_domain::store::Store;
use regent_domain::token::TokenService;
use std::process::ExitCode;
use std::sync::Arc;
use tower_http::trace::TraceLayer;
use tower_sessions::SessionManagerLayer;
use tower_sessions_sqlx_store::SqliteStore;

#[tokio::main]
async fn main() -> ExitCode {
    return_big_blocks_to_the_system();
    let cli = Cli::parse();
    if let Some(command) = cli.command.clone() {
        let done = match Settings::data_dir_only(&cli) {
            Ok(dir) => match command {
                Command::User(c) => commands::user(&dir, c).await,
                Command::Grant(c) => commands::grant(&dir, c).await,
                Command::Token(c) => commands::token(&dir, c).await,
            },
            Err(e) => Err(e.to_string()),
        };
        return match done {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("regent: {e}");
                ExitCode::from(2)
            }
        };
    }
    let settings = match Settings::load(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("regent: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.print_config {
        print!("{}", settings.describe());
        return ExitCode::SUCCESS;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("REGENT_LOG")
        .unwrap_or_else(|_| "info,regent=info,tower_http=warn".into());
    // REGENT_LOG_FORMAT=json: one JSON object per line, for a log collector.
    match std::env::var("REGENT_LOG_FORMAT").as_deref() {
        Ok("json") => tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_env_filter(filter)
            .init(),
        Ok("text") | Ok("") | Err(std::env::VarError::NotPresent) => {
            tracing_subscriber::fmt().with_env_filter(filter).init()
        }
        Ok(other) => {
            eprintln!("regent: REGENT_LOG_FORMAT=\"{other}\" is not a log format; use json, or text (the default)");
            return ExitCode::from(2);
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("regent: REGENT_LOG_FORMAT is not UTF-8; use json, or text (the default)");
            return ExitCode::from(2);
        }
    }
    match serve(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("regent: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let prometheus = metrics::install()?;
    let lifecycle = shutdown::Lifecycle::default();
    let store_path = settings.data_dir.join(commands::STORE_FILE);
    let store = Store::open(&store_path).await.map_err(|e| e.to_string())?;
    for (path, mode) in config::exposed_files(&settings.data_dir, commands::STORE_FILE) {
        let fix = if path.is_dir() { "chmod 700" } else { "chmod 600" };
        tracing::warn!(
            "{} is open to other users on this machine (mode {mode:o}): Regent's data holds the token \
             signing key, password hashes and session ids. Run `{fix} {}`.",
            path.display(),
            path.display()
        );
    }
    if let Some(password) = store
        .ensure_admin(settings.admin_password.as_deref())
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::warn!(
            "created the first user \"admin\" with the password {password} — sign in and change it; \
             this is the only time it is shown (set REGENT_ADMIN_PASSWORD to choose it)"
        );
    }
    prune_audit_daily(store.clone(), settings.audit_retention_days);
    let directory = match settings.directory.clone() {
        Some(directory) => {
            let directory = regent_domain::directory::Directory::new(directory)
                .map_err(|e| format!("the company directory settings: {e}"))?;
            tracing::info!(directory = %directory.url(), "directory users sign in with the company directory");
            Some(Arc::new(directory))
        }
        None => None,
    };
    let sign_ins = Arc::new(regent_domain::access::SignIns::new(store.clone()).with_directory(directory));
    let tokens = Arc::new(
        TokenService::open(
            store.clone(),
            Default::default(),
            sign_ins.clone(),
            settings.token.clone(),
        )
        .await
        .map_err(|e| format!("the registry token service cannot start: {e}"))?,
    );
    {
        let tokens = tokens.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                if let Err(e) = tokens.refresh_keys().await {
                    tracing::warn!(error = %e, "could not check for a rotated signing key");
                }
            }
        });
    }
    let cluster::Link {
        cluster,
        found,
        on_openshift,
        why,
    } = cluster::connect(&settings).await?;
    let url = match (&settings.registry_url, &found) {
        (Some(url), _) => url.clone(),
        (None, Some(found)) => found.url.clone(),
        (None, None) if on_openshift => cluster::REGISTRY_SERVICE_URL.parse().expect("a URL"),
        (None, None) => {
            let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
            return Err(format!("{}{why}", config::missing_registry_url()));
        }
    };
    let pull_host = settings.pull_host_for(&url, found.as_ref().and_then(|f| f.pull_host.as_deref()));
    let mut registry_config = settings.registry_config(url, found.as_ref().map(|f| f.credentials.clone()));
    registry_config.root_certificates = found.as_ref().map(|f| f.roots.clone()).unwrap_or_default();
    let registry_url = registry_config.url.to_string();
    // When the registry sends Regent's own service name in its challenges, Regent signs its
    // own tokens; other challenges go to their realm with the configured credentials.
    let registry = Arc::new(
        RegistryClient::new(registry_config)
            .map_err(|e| e.to_string())?
            .with_self_issuer(tokens.clone()),
    );
    if let (Some(cluster), Some(found)) = (&cluster, &found)
        && settings.registry_credentials == regent_domain::registry::Credentials::None
    {
        cluster::renew_registry_token(&cluster.openshift, found, &registry);
    }
    let index = CatalogIndex::new(registry.clone(), settings.index.clone());
    // Searches answer from the last snapshot at once; the first crawl reconciles it.
    // A refused snapshot was logged with its reason; the cold crawl fills the index then.
    let _ = index.restore_snapshot();
    index.spawn();
    let deleter = regent_domain::deletes::Deleter::new(registry.clone(), index.clone(), store.clone())
        .with_openshift(cluster.as_ref().map(|c| c.openshift.clone()));
    let state = AppState {
        registry: registry.clone(),
        index: index.clone(),
        pull_host: pull_host.into(),
        store: store.clone(),
        sign_ins,
        session_max_age: settings.session_max_age,
        session_idle: settings.session_idle,
        rules: Default::default(),
        deleter,
        cluster: cluster.clone(),
    };
    let sessions = sessions(&store, &settings).await?;
    let secret: Option<Arc<str>> = settings.notifications_secret.as_deref().map(Arc::from);

    if !settings.site_root.join("pkg").exists() {
        tracing::warn!(
            site_root = %settings.site_root.display(),
            "no built web assets here; pages render but stay static. Build with `cargo leptos build` or set REGENT_SITE_ROOT"
        );
    }
    let options = LeptosOptions::builder()
        .output_name("regent")
        .site_root(settings.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen)
        .build();

    let routes = generate_route_list(App);
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route(
            "/readyz",
            get({
                let state = state.clone();
                let cluster = cluster.clone();
                let lifecycle = lifecycle.clone();
                move |Extension(client): Extension<Client>, session: tower_sessions::Session| {
                    health::readyz(state.clone(), cluster.clone(), lifecycle.clone(), client, session)
                }
            }),
        )
        .route(
            "/auth/token",
            get({
                let tokens = tokens.clone();
                move |Extension(client): Extension<Client>, uri, headers| {
                    token::token(tokens.clone(), client.address, uri, headers)
                }
            })
            .post({
                let tokens = tokens.clone();
                move |Extension(client): Extension<Client>, body| {
                    token::token_form(tokens.clone(), client.address, body)
                }
            }),
        )
        .route("/auth/certs.pem", get(move || token::certs(tokens.clone())));
    // On the main address only when it has no address of its own (then restricted).
    let app = if settings.metrics_listen.is_none() {
        let state = state.clone();
        let prometheus = prometheus.clone();
        app.route(
            "/metrics",
            get(
                move |Extension(client): Extension<Client>, session: tower_sessions::Session| {
                    metrics::on_main_address(prometheus.clone(), state.clone(), client, session)
                },
            ),
        )
    } else {
        app
    };
    let app = app
        .leptos_routes_with_context(
            &options,
            routes,
            {
                let state = state.clone();
                move || {
                    provide_context(state.clone());
                    regent_app::redirect::install();
                }
            },
            {
                let options = options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(axum::middleware::from_fn(body_limit::read_whole))
        .layer(body_limit::layer(body_limit::FORMS))
        .layer(DefaultBodyLimit::max(body_limit::FORMS))
        // Added after the forms' limit, so only its own applies to it.
        .merge(
            Router::new()
                .route(
                    "/api/registry/events",
                    post({
                        let index = index.clone();
                        move |headers, body| events::receive(index.clone(), secret.clone(), headers, body)
                    }),
                )
                .layer(axum::middleware::from_fn(body_limit::read_whole))
                .layer(body_limit::layer(body_limit::NOTIFICATIONS))
                .layer(DefaultBodyLimit::max(body_limit::NOTIFICATIONS)),
        )
        .layer(sessions)
        .layer(axum::middleware::from_fn(secure_cookie::mark))
        .layer(axum::middleware::from_fn(csrf::same_origin))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(settings.trusted_proxies.clone()),
            client::identify,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn({
            let lifecycle = lifecycle.clone();
            move |request, next| lifecycle.clone().track(request, next)
        }))
        .with_state(options);

    let listener = tokio::net::TcpListener::bind(settings.listen).await.map_err(|e| {
        format!(
            "cannot listen on {} (listen / REGENT_LISTEN / --listen): {e}",
            settings.listen
        )
    })?;
    if std::env::var_os(config::TESTING_SESSION_MINUTE).is_some() {
        tracing::warn!(
            "{} is set: session lengths are shortened for testing; unset it in production",
            config::TESTING_SESSION_MINUTE
        );
    }
    if std::env::var_os(config::TESTING_DIRECTORY_CACHE).is_some() {
        tracing::warn!(
            "{} is set: directory answers are reused for less than a minute, for testing; unset it in production",
            config::TESTING_DIRECTORY_CACHE
        );
    }
    if let Some(address) = settings.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            format!("cannot listen on {address} (metrics.listen / REGENT_METRICS_LISTEN / --metrics-listen): {e}")
        })?;
        let state = state.clone();
        let metrics_app = Router::new().route(
            "/metrics",
            get(move || std::future::ready(metrics::render(&prometheus, &state))),
        );
        tracing::info!(metrics = %address, "metrics are served on http://{address}/metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics_listener, metrics_app).await {
                tracing::error!("the metrics server stopped: {e}");
            }
        });
    }
    tracing::info!(listen = %settings.listen, registry = %registry_url, "Regent is serving on http://{}", settings.listen);
    let grace = settings.shutdown_grace;
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(lifecycle.clone().drained(grace))
    .into_future();
    tokio::select! {
        done = server => done.map_err(|e| format!("server stopped: {e}"))?,
        () = lifecycle.clone().deadline(grace) => {
            tracing::warn!("connections still open after shutdown_grace_seconds; closing them");
        }
    }
    // Notifications the registry was told were taken: apply them before going.
    let left = grace
        .saturating_sub(lifecycle.since_stopping())
        .max(std::time::Duration::from_secs(1));
    let queued = index.pending_events();
    let not_applied = index.drain_events(left).await;
    if not_applied > 0 {
        tracing::warn!(
            not_applied,
            "queued registry notifications were not applied in time; the next crawl will pick them up"
        );
    } else if queued > 0 {
        tracing::info!(queued, "applied the queued registry notifications");
    }
    // The next start answers from this instead of waiting for a cold crawl.
    match index.save_snapshot().await {
        Ok(Some(bytes)) => tracing::info!(bytes, "wrote the index snapshot"),
        Ok(None) => {}
        Err(error) => tracing::warn!("could not write the index snapshot: {error}; the next start crawls cold"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Sign-in sessions, kept in Regent's database next to the users; the cookie holds only a
/// random id. Expired sessions are swept every hour.
async fn sessions(store: &Store, settings: &Settings) -> Result<SessionManagerLayer<SqliteStore>, String> {
    use tower_sessions::cookie::{SameSite, time};
    use tower_sessions::{ExpiredDeletion, Expiry};
    let sessions = SqliteStore::new(store.sqlite_pool())
        .with_table_name("sessions")
        .map_err(|e| format!("session store: {e}"))?;
    sessions
        .migrate()
        .await
        .map_err(|e| format!("creating the session table: {e}"))?;
    tokio::spawn(
        sessions
            .clone()
            .continuously_delete_expired(std::time::Duration::from_secs(3600)),
    );
    Ok(SessionManagerLayer::new(sessions)
        .with_name(secure_cookie::COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(settings.always_secure_cookie())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            settings.session_idle.as_secs() as i64,
        ))))
}

/// Deletes audit events past their retention now and then once a day, so the log (refusals
/// included, folded as they are) cannot grow without end.
fn prune_audit_daily(store: Store, keep_days: u32) {
    tokio::spawn(async move {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            match store.prune_audit(now, keep_days).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(gone, keep_days, "deleted audit events past their retention"),
                Err(e) => tracing::warn!(error = %e, "could not delete old audit events"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        }
    });
}

/// Each password check allocates ~19 MiB and frees it. glibc would keep freed blocks that size
/// in the heap of whichever thread ran the check, so resident memory grew by 19 MiB per
/// blocking thread that ever hashed (hundreds of MiB after a burst), although at most a few
/// checks run at once. A fixed threshold makes blocks of 4 MiB and more come straight from the
/// system and go straight back.
/// musl's allocator (the static binary in the container image) already maps big blocks
/// directly and has no such knob.
#[cfg(target_env = "gnu")]
fn return_big_blocks_to_the_system() {
    // SAFETY: mallopt takes the allocator's own lock and only changes a tuning parameter (one
    // for every thread's heap); nothing else touches it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
}

#[cfg(not(target_env = "gnu"))]
fn return_big_blocks_to_the_system() {}
