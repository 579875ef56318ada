//! The patch formats PATCH accepts: RFC 7386 merge patches and RFC 6902 JSON patches.
//!
//! `writes::patch` chooses one by Content-Type (strategic merge and apply are treated as merge
//! patches, which is what kube sends for the objects Regent writes).

use serde_json::Map;
use serde_json::Value;

/// RFC 7386: objects merge, null deletes, everything else (arrays included) replaces.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// RFC 6902: add, remove, replace, move, copy, test.
pub(super) fn json_patch(doc: &mut Value, ops: &Value) -> std::result::Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array of operations")?;
    for op in ops {
        let kind = op["op"].as_str().ok_or("operation without \"op\"")?;
        let path = op["path"].as_str().ok_or("operation without \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{kind} operation without \"value\""))
        };
        let from = || {
            op["from"]
                .as_str()
                .ok_or_else(|| format!("{kind} operation without \"from\""))
        };
        match kind {
            "add" => pointer_add(doc, path, value()?)?,
            "remove" => {
                pointer_remove(doc, path)?;
            }
            "replace" => {
                if path.is_empty() {
                    *doc = value()?;
                } else {
                    let v = value()?;
                    pointer_remove(doc, path)
                        .map_err(|_| format!("replace operation does not apply: doc is missing path: {path}"))?;
                    pointer_add(doc, path, v)?;
                }
            }
            "move" => {
                let v = pointer_remove(doc, from()?)?;
                pointer_add(doc, path, v)?;
            }
            "copy" => {
                let from = from()?;
                let v = doc
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| format!("copy from a missing path: {from}"))?;
                pointer_add(doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed"));
                }
            }
            other => return Err(format!("unexpected operation {other:?}")),
        }
    }
    Ok(())
}

fn split_pointer(path: &str) -> std::result::Result<(&str, String), String> {
    let i = path
        .rfind('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok((&path[..i], path[i + 1..].replace("~1", "/").replace("~0", "~")))
}

fn pointer_add(doc: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(last, value);
        }
        Some(Value::Array(items)) if last == "-" => items.push(value),
        Some(Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| format!("invalid array index in {path}"))?;
            if i > items.len() {
                return Err(format!("add operation index out of bounds: {path}"));
            }
            items.insert(i, value);
        }
        _ => return Err(format!("add operation does not apply: doc is missing path: {path}")),
    }
    Ok(())
}

fn pointer_remove(doc: &mut Value, path: &str) -> std::result::Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let missing = || format!("remove operation does not apply: doc is missing path: {path}");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&last).ok_or_else(missing),
        Some(Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| missing())?;
            if i < items.len() {
                Ok(items.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches() {
        let mut doc = json!({"users": ["a"], "subjects": [{"name": "x"}, {"name": "y"}], "m": {"k": 1, "j": 2}});
        json_patch(&mut doc, &json!([{"op": "add", "path": "/users/-", "value": "b"}, {"op": "remove", "path": "/subjects/0"}, {"op": "test", "path": "/m/k", "value": 1}])).unwrap();
        assert_eq!(doc["users"], json!(["a", "b"]));
        assert_eq!(doc["subjects"], json!([{"name": "y"}]));
        assert!(json_patch(&mut doc, &json!([{"op": "replace", "path": "/nope", "value": 1}])).is_err());
        merge_patch(&mut doc, &json!({"m": {"k": null, "n": 3}, "users": ["z"]}));
        assert_eq!(doc["m"], json!({"j": 2, "n": 3}));
        assert_eq!(doc["users"], json!(["z"]));
    }
}
