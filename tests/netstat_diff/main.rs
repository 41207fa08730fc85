//! Differential tests: nlstat against the real /usr/bin/netstat on the same
//! kernel state, byte for byte. Each test builds its own network namespace.
//!
//! Needs root (for `ip netns`). Under CI (`CI=true`) a test that cannot
//! build its namespace fails; elsewhere it prints why and skips.

mod support;

mod all_netns;
mod continuous;
mod docs;
mod events;
pub(crate) mod exporter;
mod faults;
mod filters;
mod groups;
mod info;
mod info_unix;
mod interfaces;
pub(crate) mod json_sockets;
mod json_tables;
mod live;
mod netns;
mod options;
mod owners;
mod random_filters;
mod replay;
mod routes;
mod sockets;
mod statistics;
mod terminal;
mod view_source;
pub(crate) mod views;
