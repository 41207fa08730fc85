//! Renderers: turn model records into net-tools text, byte for byte.

pub mod netstat;
pub mod text;
