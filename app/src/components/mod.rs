//! Widgets shared by several screens.

pub mod pagination;
pub mod registry_problem;
