//! The governance crate's parts, used as the server uses them.

mod policy;
