//! Enrichment: facts the socket dump does not carry (owning process, names).

pub mod inode_map;
pub mod names;
pub mod owners;
pub mod processes;
pub mod task_files;
