//! One module per screen; each holds its component and the server functions it calls.

pub mod images;
pub mod not_found;
pub mod repository;
