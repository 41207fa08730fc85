//! Renderers: byte formats only. Model records into net-tools text, byte
//! for byte, JSON Lines (`--json`), Prometheus exposition; terminal
//! safety. Which of them a run feeds is chosen in [`crate::sinks`].

pub mod exposition;
pub mod json;
pub mod netstat;
pub mod ss_info;
pub mod terminal;
