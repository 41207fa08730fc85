//! Enrichment: facts the socket dump does not carry (owning process, names).

pub mod names;
pub mod processes;
