//! Stopping the way Kubernetes expects (docs/shutdown.md): on SIGTERM (or Ctrl-C) `/readyz`
//! answers 503 at once so the Service stops sending new users here, requests already running
//! finish, queued registry notifications are applied, and the process exits 0 — all within
//! `shutdown_grace_seconds`, which must be shorter than the pod's
//! `terminationGracePeriodSeconds` (after that the kubelet sends SIGKILL).
//!
//! `Lifecycle` counts the requests in flight (a middleware on every route) and holds the
//! "stopping" flag `/readyz` reads.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Inner {
    stopping: AtomicBool,
    stopped_at: std::sync::Mutex<Option<std::time::Instant>>,
    in_flight: AtomicUsize,
    changed: Notify,
}

#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    inner: Arc<Inner>,
}

/// Decrements the in-flight count however the request ends (finished or cancelled).
struct InFlight(Lifecycle);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.inner.changed.notify_waiters();
    }
}

impl Lifecycle {
    /// SIGTERM has arrived: not ready any more.
    pub fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// Time since SIGTERM (zero before).
    pub fn since_stopping(&self) -> Duration {
        self.inner
            .stopped_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// The middleware that counts requests in flight.
    pub async fn track(self, request: Request, next: Next) -> Response {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(self.clone());
        next.run(request).await
    }

    /// Resolves when the server should stop accepting connections: after SIGTERM or Ctrl-C,
    /// once no request is in flight or `grace` has passed, whichever is first. Until then
    /// Regent goes on serving (with `/readyz` at 503), so a request that arrives while the
    /// Service is still taking the pod out of its endpoints is answered, not refused.
    pub async fn drained(self, grace: Duration) {
        signal().await;
        *self.inner.stopped_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        self.inner.stopping.store(true, Ordering::SeqCst);
        tracing::info!(
            in_flight = self.in_flight(),
            grace_seconds = grace.as_secs(),
            "shutting down: /readyz answers 503; waiting for the requests in flight"
        );
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let changed = self.inner.changed.notified();
            if self.in_flight() == 0 {
                return;
            }
            // Woken by each finished request; the timeout bounds the wait (and covers a
            // wake-up between the check and the wait).
            if tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)),
                changed,
            )
            .await
            .is_err()
                && tokio::time::Instant::now() >= deadline
            {
                tracing::warn!(
                    in_flight = self.in_flight(),
                    "requests still running after shutdown_grace_seconds; stopping anyway"
                );
                return;
            }
        }
    }

    /// Resolves `grace` after SIGTERM: the hard bound on the whole stop.
    pub async fn deadline(self, grace: Duration) {
        loop {
            let changed = self.inner.changed.notified();
            if self.stopping() {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), changed).await;
        }
        tokio::time::sleep(grace).await;
    }
}

async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
