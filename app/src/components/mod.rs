//! Widgets shared by several screens.

pub mod bad_address;
pub mod copy;
pub mod delete_controls;
pub mod index_status;
pub mod notice;
pub mod pagination;
pub mod quick_delete;
pub mod registry_problem;
pub mod sign_in_hint;
pub mod stream;
pub mod tag_table;
