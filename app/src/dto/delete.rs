//! What the delete controls send and what a delete that did not happen answers.
//!
//! `DeleteOp` is the `op` field of `POST /api/delete`; its one table of names is what the
//! pages write into their hidden inputs and what the server reads back, so the two cannot
//! drift. `NotDeleted` is the answer of a delete that did not happen: its JSON is
//! `{"Refused": "…"}` (the refusal shape every change answers with), and the server sends it
//! with the HTTP status of why (403, 404, 503, 400).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a delete control deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum DeleteOp {
    Tag,
    Manifest,
    Repository,
    Layer,
    StreamTag,
    Image,
}

impl DeleteOp {
    /// Every op with its name in forms: the one list the controls and the parser share.
    pub const ALL: [(DeleteOp, &'static str); 6] = [
        (DeleteOp::Tag, "tag"),
        (DeleteOp::Manifest, "manifest"),
        (DeleteOp::Repository, "repository"),
        (DeleteOp::Layer, "layer"),
        (DeleteOp::StreamTag, "stream_tag"),
        (DeleteOp::Image, "image"),
    ];

    /// The value of a form's `op` field.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, name)| name)
    }
}

impl From<DeleteOp> for &'static str {
    fn from(op: DeleteOp) -> Self {
        op.as_str()
    }
}

impl std::str::FromStr for DeleteOp {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(op, _)| *op)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
                format!(
                    "\"{}\" is not something Regent deletes; use {}.",
                    name.chars().take(20).collect::<String>(),
                    names.join(", ")
                )
            })
    }
}

impl TryFrom<String> for DeleteOp {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        name.parse()
    }
}

/// A delete that did not happen, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotDeleted {
    #[serde(rename = "Refused")]
    pub message: String,
}

impl std::fmt::Display for NotDeleted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl FromServerFnError for NotDeleted {
    type Encoder = JsonEncoding;

    /// A form Regent cannot read (an unknown `op`, a missing field) is bad input: on the server
    /// it is answered 400. In the browser, a delete whose answer never came says so.
    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        let message = match error {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                #[cfg(feature = "ssr")]
                if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(http::StatusCode::BAD_REQUEST);
                }
                m
            }
            e @ (ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_)) => {
                format!("Regent did not answer: {e}")
            }
            e => format!("The delete failed: {e}"),
        };
        Self { message }
    }
}
