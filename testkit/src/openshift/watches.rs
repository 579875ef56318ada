//! Watches: `?watch=true` streams of ADDED/MODIFIED/DELETED/BOOKMARK/ERROR lines.
//!
//! A [`WatchStream`] replays the store's history after the requested resourceVersion, then waits
//! on `Shared::changed` for new events; compaction (`expire_watches`) ends it with a 410 Expired
//! ERROR event, and every stream ends by its timeout, so none outlives its test.

use super::errors::{ApiError, ApiResult, status_value};
use super::recording::ApiRequest;
use axum::body::Body;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::routing::Target;
use super::selectors::{Filter, Requirement};
use super::store::{Key, Shared, State};

/// Real API servers cap watches too; 60 s keeps a forgotten watch from outliving its test long.
const MAX_WATCH_SECONDS: u64 = 60;
struct WatchStream {
    pub(super) shared: Arc<Shared>,
    rx: watch::Receiver<u64>,
    pub(super) key: Key,
    pub(super) namespace: Option<String>,
    pub(super) filter: Filter,
    /// Every event with a resourceVersion up to this one has been looked at.
    cursor: u64,
    pub(super) expirations: u64,
    deadline: tokio::time::Instant,
    bookmark: Option<Value>,
    pub(super) first: Vec<u8>,
    done: bool,
}

fn event_line(kind: &str, object: &Value) -> Vec<u8> {
    let mut line = json!({"type": kind, "object": object}).to_string().into_bytes();
    line.push(b'\n');
    line
}

fn expired_line(requested: u64, oldest: u64) -> Vec<u8> {
    let message = format!("too old resource version: {requested} ({oldest})");
    event_line("ERROR", &status_value(410, "Expired", &message, None))
}

impl WatchStream {
    /// The lines for every event after the cursor (and moves the cursor to now).
    fn pending(&mut self, s: &State) -> Vec<u8> {
        let mut out = Vec::new();
        let start = s.history.partition_point(|e| e.rv <= self.cursor);
        for e in &s.history[start..] {
            if e.key != self.key || self.namespace.as_ref().is_some_and(|ns| *ns != e.namespace) {
                continue;
            }
            let now = self.filter.matches(&e.object);
            // Selector watches see objects enter and leave the selection, as real ones do.
            let kind = match (e.kind, e.old.as_ref().map(|o| self.filter.matches(o))) {
                ("MODIFIED", Some(true)) if now => "MODIFIED",
                ("MODIFIED", Some(true)) => "DELETED",
                ("MODIFIED", _) if now => "ADDED",
                ("MODIFIED", _) => continue,
                (kind, _) if now => kind,
                _ => continue,
            };
            out.extend(event_line(kind, &e.object));
        }
        self.cursor = s.rv;
        out
    }

    pub(super) async fn next(mut self) -> Option<(std::result::Result<Bytes, Infallible>, Self)> {
        // The first chunk goes out even when it is all there is (an immediate 410).
        if !self.first.is_empty() {
            let first = std::mem::take(&mut self.first);
            return Some((Ok(first.into()), self));
        }
        if self.done {
            return None;
        }
        // Not a busy loop: each pass either returns or waits for a change, and never past the
        // deadline, so the whole stream is bounded by timeoutSeconds.
        loop {
            self.rx.borrow_and_update();
            let chunk = {
                let shared = self.shared.clone();
                let s = shared.lock();
                if s.expirations != self.expirations {
                    self.done = true;
                    expired_line(self.cursor, s.compacted)
                } else {
                    self.pending(&s)
                }
            };
            if !chunk.is_empty() {
                return Some((Ok(chunk.into()), self));
            }
            match tokio::time::timeout_at(self.deadline, self.rx.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return None,
                Err(_) => {
                    self.done = true;
                    // A bookmark before the end lets the client resume without replaying.
                    let mut bookmark = self.bookmark.take()?;
                    bookmark["metadata"]["resourceVersion"] = json!(self.cursor.to_string());
                    return Some((Ok(event_line("BOOKMARK", &bookmark).into()), self));
                }
            }
        }
    }
}

pub(super) fn start_watch(shared: &Arc<Shared>, target: Target, req: &ApiRequest) -> ApiResult {
    let Target {
        res,
        namespace,
        name,
        sub,
    } = target;
    if !res.stored || sub.is_some() {
        return Err(ApiError::method_not_allowed());
    }
    let mut filter = Filter::parse(res, req)?;
    if let Some(name) = name {
        // The old single-object watch, `.../{plural}/{name}?watch=true`.
        filter.fields.push(Requirement::Equals("metadata.name".into(), name));
    }
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(MAX_WATCH_SECONDS)
        .min(MAX_WATCH_SECONDS);
    let requested = req.param("resourceVersion").filter(|rv| !rv.is_empty() && rv != "0");
    let requested = match requested {
        None => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let send_initial = req.param("sendInitialEvents").as_deref() == Some("true");
    let bookmarks = req.param("allowWatchBookmarks").as_deref() == Some("true");
    let s = shared.lock();
    let mut stream = WatchStream {
        shared: shared.clone(),
        rx: shared.changed.subscribe(),
        key: res.key(),
        namespace,
        filter,
        cursor: s.rv,
        expirations: s.expirations,
        deadline: tokio::time::Instant::now() + Duration::from_secs(timeout),
        bookmark: bookmarks.then(|| json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": {}})),
        first: Vec::new(),
        done: false,
    };
    match requested {
        Some(rv) if rv < s.compacted => {
            stream.first = expired_line(rv, s.compacted);
            stream.done = true;
        }
        Some(rv) if !send_initial => {
            stream.cursor = rv;
            stream.first = stream.pending(&s);
        }
        _ => {
            // No resourceVersion (or "0"): the current objects, as ADDED, then what happens next.
            for ((ns, _), object) in s.collection(res) {
                if stream.namespace.as_ref().is_none_or(|n| n == ns) && stream.filter.matches(object) {
                    stream.first.extend(event_line("ADDED", object));
                }
            }
            if send_initial {
                let end = json!({
                    "kind": res.kind, "apiVersion": res.api_version(),
                    "metadata": {"resourceVersion": s.rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}},
                });
                stream.first.extend(event_line("BOOKMARK", &end));
            }
        }
    }
    drop(s);
    let body = Body::from_stream(futures::stream::unfold(stream, WatchStream::next));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
