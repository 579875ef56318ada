//! Reads: lists, with paging by `limit` and `continue` tokens.
//!
//! Single-object GETs are one line in `routing::dispatch`; lists need the paging rules (sorted
//! by namespace and name, `remainingItemCount`, continue tokens that expire with compaction).

use super::errors::{ApiError, ApiResult, ok};
use super::helpers::list_item;
use super::recording::ApiRequest;
use super::resources::{PROJECT, Resource};
use super::selectors::Filter;
use super::store::{ObjKey, Shared};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use serde_json::json;

pub(super) fn list(shared: &Shared, res: &'static Resource, ns: Option<&str>, req: &ApiRequest) -> ApiResult {
    let filter = Filter::parse(res, req)?;
    let limit = match req.param("limit").filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(
            l.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?,
        ),
    }
    .filter(|&l| l > 0);
    let s = shared.lock();
    // The real project list is computed per user and ignores paging (openshift-apiserver's project proxy storage).
    let paged = !res.is(PROJECT, "projects");
    let start = match req.param("continue").filter(|c| !c.is_empty() && paged) {
        None => None,
        Some(token) => Some(decode_continue(&token, s.compacted)?),
    };
    let matching: Vec<(&ObjKey, &Value)> = s
        .collection(res)
        .filter(|(k, _)| ns.is_none_or(|ns| k.0 == ns))
        .filter(|(k, _)| start.as_ref().is_none_or(|start| *k > start))
        .filter(|(_, v)| filter.matches(v))
        .collect();
    let take = if paged { limit.unwrap_or(usize::MAX) } else { usize::MAX };
    let remaining = matching.len().saturating_sub(take);
    let items: Vec<Value> = matching
        .iter()
        .take(take)
        .map(|(_, v)| list_item((*v).clone()))
        .collect();
    let mut metadata = json!({"resourceVersion": s.rv.to_string()});
    if remaining > 0 {
        let last = matching[take - 1].0;
        let token = json!({"rv": s.rv, "start": [last.0, last.1]}).to_string();
        metadata["continue"] = json!(URL_SAFE_NO_PAD.encode(token));
        metadata["remainingItemCount"] = json!(remaining);
    }
    ok(
        json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": metadata, "items": items}),
    )
}

fn decode_continue(token: &str, compacted: u64) -> std::result::Result<ObjKey, ApiError> {
    let invalid = |why: String| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|e| invalid(e.to_string()))?;
    let value: Value = serde_json::from_slice(&raw).map_err(|e| invalid(e.to_string()))?;
    let rv = value["rv"]
        .as_u64()
        .ok_or_else(|| invalid("no resource version".into()))?;
    let ns = value["start"][0]
        .as_str()
        .ok_or_else(|| invalid("no start key".into()))?;
    let name = value["start"][1]
        .as_str()
        .ok_or_else(|| invalid("no start key".into()))?;
    if rv < compacted {
        // etcd compaction invalidates continue tokens as well as watches. As the real server
        // does, the 410 carries a token that continues from the same key at the current state,
        // for clients that accept an inconsistent list.
        let inconsistent = json!({"rv": compacted, "start": [ns, name]}).to_string();
        let metadata = json!({"continue": URL_SAFE_NO_PAD.encode(inconsistent)});
        return Err(ApiError::expired(
            "The provided continue parameter is too old to display a consistent list result. You can start a new \
             list without the continue parameter, or use the continue token in this response to retrieve the \
             remainder of the results. Continuing with the provided token results in an inconsistent list - \
             objects that were created, modified, or deleted between the time the first chunk was returned and now \
             may show up in the list."
                .into(),
        )
        .metadata(metadata));
    }
    Ok((ns.to_owned(), name.to_owned()))
}
