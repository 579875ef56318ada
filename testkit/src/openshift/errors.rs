//! Errors and success bodies: always a Kubernetes `Status`, because kube only turns those into
//! `kube::Error::Api`.
//!
//! Every handler returns [`ApiResult`]; the constructors here word messages, reasons and
//! `details` as the real API server does (404 NotFound, 409 AlreadyExists/Conflict, 410 Expired,
//! 422 Invalid, …), so product code that matches on them is tested against the real wording.

use super::resources::Resource;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use serde_json::json;

pub(super) struct ApiError {
    code: u16,
    reason: &'static str,
    pub(super) message: String,
    pub(super) details: Option<Value>,
    /// The Status's ListMeta, when it carries one (an expired continue token's replacement).
    pub(super) metadata: Option<Value>,
}

impl ApiError {
    pub(super) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            metadata: None,
        }
    }

    pub(super) fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(super) fn route_not_found() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource").details(json!({}))
    }

    pub(super) fn not_found(res: &Resource, name: &str) -> Self {
        Self::named(
            404,
            "NotFound",
            res.group,
            res.plural,
            name,
            format!("{} \"{name}\" not found", res.qualified()),
        )
    }

    pub(super) fn already_exists(res: &Resource, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", res.qualified());
        Self::named(409, "AlreadyExists", res.group, res.plural, name, message)
    }

    pub(super) fn conflict(res: &Resource, name: &str, why: &str) -> Self {
        let message = format!("Operation cannot be fulfilled on {} \"{name}\": {why}", res.qualified());
        Self::named(409, "Conflict", res.group, res.plural, name, message)
    }

    pub(super) fn modified(res: &Resource, name: &str) -> Self {
        Self::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub(super) fn named(code: u16, reason: &'static str, group: &str, kind: &str, name: &str, message: String) -> Self {
        Self::new(code, reason, message).details(json!({"name": name, "group": group, "kind": kind}))
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(super) fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .details(json!({}))
    }

    pub(super) fn invalid(res: &Resource, name: &str, field: &str, message: String) -> Self {
        let kind = if res.group.is_empty() {
            res.kind.to_owned()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let full = format!("{kind} \"{name}\" is invalid: {field}: {message}");
        Self::new(422, "Invalid", full).details(json!({
            "name": name, "group": res.group, "kind": res.kind,
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}],
        }))
    }

    pub(super) fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = Some(metadata);
        self
    }

    pub(super) fn expired(message: String) -> Self {
        Self::new(410, "Expired", message)
    }
}

pub(super) fn status_value(code: u16, reason: &str, message: &str, details: Option<&Value>) -> Value {
    let mut status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        status["details"] = d.clone();
    }
    status
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = status_value(self.code, self.reason, &self.message, self.details.as_ref());
        if let Some(metadata) = self.metadata {
            body["metadata"] = metadata;
        }
        json_response(self.code, &body)
    }
}

pub(super) type ApiResult = std::result::Result<Response, ApiError>;

fn json_response(code: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

pub(super) fn ok(body: Value) -> ApiResult {
    Ok(json_response(200, &body))
}

pub(super) fn created(body: Value) -> ApiResult {
    Ok(json_response(201, &body))
}

pub(super) fn success(res: &Resource, name: &str, uid: Option<&str>) -> Value {
    let mut details = json!({"name": name, "group": res.group, "kind": res.plural});
    if let Some(uid) = uid {
        details["uid"] = json!(uid);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}
