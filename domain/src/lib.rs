//! Regent's domain, free of any web framework.
//!
//! Everything here is plain async Rust that the Leptos server functions call: the names a
//! registry uses (`reference`), the Distribution / OCI v2 client (`registry`), Regent's own
//! index of the registry with its search (`index`), who may do what (`access`) and the SQL
//! store of users, groups, grants and the audit log (`store`), and the OpenShift cluster whose image
//! streams and role bindings join the registry's data there (`openshift`). Keeping it apart from `app` means it
//! never reaches the WASM bundle and its tests run against a real registry without a browser.

pub mod access;
pub mod deletes;
pub mod directory;
pub mod index;
pub mod openshift;
pub mod reference;
pub mod registry;
pub mod store;
pub mod token;
