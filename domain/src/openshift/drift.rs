//! What the image streams say the registry holds and it does not: real drift, not a guess.
//!
//! A stream tag's image is expected where its newest history item's `dockerImageReference`
//! says (`StreamJoin::expected_here`), which for images tagged across projects is another
//! project's repository. Regent's index answers for tagged manifests; a digest the index does
//! not show in that repository is asked of the registry itself (`HEAD
//! /v2/<repository>/manifests/<digest>`), because an untagged manifest is still pullable by
//! digest. Only a 404 there is "missing", and it is reported with the repository looked in.

use super::streams::{Expected, StreamJoin, StreamTag, StreamTagName};
use crate::index::CatalogIndex;
use crate::reference::{Reference, RepositoryName};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};

/// At most this many manifests are asked of the registry per look; the rest are reported as
/// not checked, so a page over a large drifted cluster stays quick.
pub const MAX_CHECKS: usize = 64;
/// Registry requests in flight at once.
const IN_FLIGHT: usize = 4;

/// A stream tag whose image the registry lacks where the stream says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub tag: StreamTagName,
    pub looked_in: Expected,
}

/// A stream tag whose image could not be checked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    pub tag: StreamTagName,
    pub looked_in: Expected,
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    pub missing: Vec<Missing>,
    pub unchecked: Vec<Unchecked>,
}

/// Which of `tags` have a current image the registry does not have where it should be.
pub async fn missing_from_registry<'a>(
    index: &CatalogIndex,
    join: &StreamJoin,
    tags: impl IntoIterator<Item = &'a StreamTag>,
) -> Drift {
    let wanted: Vec<(StreamTagName, Expected)> = tags
        .into_iter()
        .filter_map(|t| join.expected_here(t).map(|e| (t.name.clone(), e)))
        .collect();
    // The index answers for every tagged manifest, without a request.
    let to_ask: Vec<Expected> = {
        let data = index.read();
        let mut tagged: HashMap<&RepositoryName, HashSet<String>> = HashMap::new();
        let mut ask = Vec::new();
        let mut seen = HashSet::new();
        for (_, e) in &wanted {
            let here = tagged.entry(&e.repository).or_insert_with(|| {
                data.repository_tags(&e.repository)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, d)| d.to_string())
                    .collect()
            });
            if !here.contains(e.digest.as_str()) && seen.insert(e.clone()) {
                ask.push(e.clone());
            }
        }
        ask
    };
    let mut to_ask = to_ask;
    let skipped: HashSet<Expected> = to_ask.split_off(to_ask.len().min(MAX_CHECKS)).into_iter().collect();
    let registry = index.registry().clone();
    let answers: HashMap<Expected, Result<bool, String>> = futures::stream::iter(to_ask)
        .map(|e| {
            let registry = registry.clone();
            async move {
                let found = match registry
                    .manifest_head(&e.repository, &Reference::Digest(e.digest.clone()))
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(err) if err.is_not_found() => Ok(false),
                    Err(err) => Err(err.to_string()),
                };
                (e, found)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut drift = Drift::default();
    for (tag, looked_in) in wanted {
        match answers.get(&looked_in) {
            None if skipped.contains(&looked_in) => drift.unchecked.push(Unchecked {
                tag,
                looked_in,
                why: format!("not checked: Regent asks the registry about at most {MAX_CHECKS} manifests at a time"),
            }),
            // Tagged in the index, or there by digest.
            None | Some(Ok(true)) => {}
            Some(Ok(false)) => drift.missing.push(Missing { tag, looked_in }),
            Some(Err(why)) => drift.unchecked.push(Unchecked {
                tag,
                looked_in,
                why: why.clone(),
            }),
        }
    }
    drift
}
