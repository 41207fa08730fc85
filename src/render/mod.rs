//! Renderers: byte formats only. Model records into net-tools text, byte
//! for byte, JSON Lines (`--json`), Prometheus exposition; terminal
//! safety. Which of them a run feeds is chosen in [`crate::sinks`].

pub mod exposition;
pub mod json;
pub mod netstat;
pub mod ss_info;
pub mod stdio;
pub mod terminal;
/// The text buffers moved to [`crate::text`] (a leaf below every stage);
/// this path stays for code written against the old one.
pub use crate::text;
