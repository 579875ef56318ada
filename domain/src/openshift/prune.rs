//! Deleting on OpenShift through its objects, in the order `oc adm prune images` uses.
//!
//! An image stream tag goes with `DELETE imagestreamtags/<is>:<tag>` (its whole history; the
//! Image and the registry data stay). An image goes in three steps: first every stream stops
//! referring to it (its items leave `status.tags[].items`, emptied tags go, `PUT …/status`),
//! because the integrated registry refuses to delete a manifest a stream still refers to; then
//! the registry data (manifest links, layer links, blobs nobody else uses; done by the
//! `Deleter`, which owns the registry side); last the Image object itself.

use super::streams::StreamTagName;
use super::{OpenShift, OpenShiftError};
use kube::Api;
use kube::api::{ApiResource, DeleteParams, DynamicObject, GroupVersionKind, PostParams};

/// What deleting one image stream tag did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTagDeletion {
    pub summary: String,
}

/// What the cluster side of deleting an image did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// `namespace/stream` → the tags whose history held the image (a tag with nothing left went).
    pub streams: Vec<(String, Vec<String>)>,
    pub image_deleted: bool,
}

const ATTEMPTS: usize = 5;

fn stream_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("image.openshift.io", "v1", "ImageStream"),
        "imagestreams",
    )
}

impl OpenShift {
    /// `oc delete imagestreamtag <is>:<tag> -n <namespace>`.
    pub async fn delete_stream_tag(&self, name: &StreamTagName) -> Result<StreamTagDeletion, OpenShiftError> {
        let tags: Api<super::resources::ImageStreamTag> = Api::namespaced(self.client(), &name.namespace);
        let digest = self
            .join()
            .tag(&name.namespace, &name.stream, &name.tag)
            .and_then(|t| t.current.clone());
        match tags
            .delete(&format!("{}:{}", name.stream, name.tag), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Err(OpenShiftError::NotFound {
                    message: format!("There is no image stream tag {name} (deleted already?)."),
                });
            }
            Err(e) => return Err(self.err(e)),
        }
        let rest = match digest {
            Some(d) => {
                let others: Vec<String> = self
                    .join()
                    .pointing_at(&d)
                    .iter()
                    .filter(|n| *n != name)
                    .map(ToString::to_string)
                    .collect();
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!(" {} still point at it.", others.join(", "))
                };
                format!(
                    " Its image {d} stays in the registry until it is pruned (`oc adm prune images`) or deleted here.{also}"
                )
            }
            None => String::new(),
        };
        Ok(StreamTagDeletion {
            summary: format!("Deleted the image stream tag {name} with its history.{rest}"),
        })
    }

    /// Step 1 of deleting an image: every stream drops the history items that hold it.
    pub async fn forget_image(&self, digest: &str) -> Result<PruneReport, OpenShiftError> {
        let mut report = PruneReport::default();
        let mut streams: Vec<(String, String)> = self
            .join()
            .holding(digest)
            .into_iter()
            .map(|(t, _)| (t.name.namespace.clone(), t.name.stream.clone()))
            .collect();
        streams.dedup();
        for (namespace, stream) in streams {
            let api: Api<DynamicObject> = Api::namespaced_with(self.client(), &namespace, &stream_resource());
            let mut done = None;
            for _ in 0..ATTEMPTS {
                let mut object = match api.get(&stream).await {
                    Ok(o) => o,
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        done = Some(Vec::new());
                        break;
                    }
                    Err(e) => return Err(self.err(e)),
                };
                let mut touched = Vec::new();
                if let Some(tags) = object.data.pointer_mut("/status/tags").and_then(|t| t.as_array_mut()) {
                    for tag in tags.iter_mut() {
                        let name = tag["tag"].as_str().unwrap_or_default().to_owned();
                        if let Some(items) = tag.get_mut("items").and_then(|i| i.as_array_mut()) {
                            let before = items.len();
                            items.retain(|i| i["image"].as_str() != Some(digest));
                            if items.len() != before {
                                touched.push(name);
                            }
                        }
                    }
                    // A tag with no history left goes, as `oc adm prune` drops empty tags.
                    tags.retain(|t| t["items"].as_array().is_some_and(|i| !i.is_empty()));
                }
                if touched.is_empty() {
                    done = Some(touched);
                    break;
                }
                match api.replace_status(&stream, &PostParams::default(), &object).await {
                    Ok(_) => {
                        done = Some(touched);
                        break;
                    }
                    Err(kube::Error::Api(s)) if s.code == 409 => continue,
                    Err(e) => return Err(self.err(e)),
                }
            }
            match done {
                Some(tags) if tags.is_empty() => {}
                Some(tags) => report.streams.push((format!("{namespace}/{stream}"), tags)),
                None => {
                    return Err(OpenShiftError::Conflict {
                        message: format!("the image stream {namespace}/{stream} kept changing; try again"),
                    });
                }
            }
        }
        Ok(report)
    }

    /// Step 3: the Image object (`oc` deletes it with a grace period of 0). `false`: there was none.
    pub async fn delete_image_object(&self, digest: &str) -> Result<bool, OpenShiftError> {
        let api: Api<super::Image> = Api::all(self.client());
        match api.delete(digest, &DeleteParams::default().grace_period(0)).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }
}
