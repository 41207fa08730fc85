//! Byte I/O below every stage: [`stdio`], the stdout buffer that keeps
//! netstat's order of stdout and stderr. Every stage may write a message
//! to stderr (the crate's `eprintln!` goes through it), so it sits here,
//! beside [`crate::text`], not in render/.

pub mod stdio;
pub mod stop;
