//! Label and field selectors, parsed from `labelSelector` / `fieldSelector`.
//!
//! Used by lists, collection deletes and watches alike, so a selector watch sees objects enter
//! and leave the selection as it does on a real server. Only the field labels the real server
//! supports for a kind are accepted; others are a 400, as there.

use super::errors::ApiError;
use super::recording::ApiRequest;
use super::resources::{CORE, IMAGE, Resource};
use serde_json::Value;

pub(super) enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

#[derive(Default)]
pub(super) struct Filter {
    labels: Vec<Requirement>,
    pub(super) fields: Vec<Requirement>,
}

impl Filter {
    pub(super) fn parse(res: &Resource, req: &ApiRequest) -> std::result::Result<Self, ApiError> {
        let mut filter = Filter::default();
        for part in req.param("labelSelector").unwrap_or_default().split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let requirement = parse_requirement(part)
                .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: {part:?}")))?;
            filter.labels.push(requirement);
        }
        for part in req.param("fieldSelector").unwrap_or_default().split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let field = match parse_requirement(part) {
                Some(Requirement::Equals(field, _) | Requirement::NotEquals(field, _)) => field,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid selector: '{part}'; can't understand '{part}'"
                    )));
                }
            };
            if !field_supported(res, &field) {
                return Err(ApiError::bad_request(format!("field label not supported: {field}")));
            }
            filter.fields.push(parse_requirement(part).expect("parsed above"));
        }
        Ok(filter)
    }

    pub(super) fn matches(&self, object: &Value) -> bool {
        let label = |k: &str| object["metadata"]["labels"][k].as_str().map(str::to_owned);
        let labels_ok = self.labels.iter().all(|r| match r {
            Requirement::Equals(k, v) => label(k).as_deref() == Some(v),
            Requirement::NotEquals(k, v) => label(k).as_deref() != Some(v),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
        });
        let field = |k: &str| {
            let pointer = format!("/{}", k.replace('.', "/"));
            match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        };
        labels_ok
            && self.fields.iter().all(|r| match r {
                Requirement::Equals(k, v) => field(k) == *v,
                Requirement::NotEquals(k, v) => field(k) != *v,
                _ => true,
            })
    }
}

fn parse_requirement(part: &str) -> Option<Requirement> {
    let valid = |s: &str| !s.is_empty() && !s.contains([' ', '(', ')', '!', '=']);
    let r = if let Some((k, v)) = part.split_once("!=") {
        Requirement::NotEquals(k.trim().into(), v.trim().into())
    } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        Requirement::Equals(k.trim().into(), v.trim().into())
    } else if let Some(k) = part.strip_prefix('!') {
        Requirement::NotExists(k.trim().into())
    } else {
        Requirement::Exists(part.into())
    };
    let ok = match &r {
        Requirement::Equals(k, v) | Requirement::NotEquals(k, v) => valid(k) && (v.is_empty() || valid(v)),
        Requirement::Exists(k) | Requirement::NotExists(k) => valid(k),
    };
    ok.then_some(r)
}

fn field_supported(res: &Resource, field: &str) -> bool {
    match field {
        "metadata.name" => true,
        "metadata.namespace" => res.namespaced,
        "spec.dockerImageRepository" | "status.dockerImageRepository" => res.is(IMAGE, "imagestreams"),
        "spec.nodeName" | "status.phase" => res.is(CORE, "pods"),
        _ => false,
    }
}
