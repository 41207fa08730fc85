//! Placeholder until the recorded-dump benchmarks land.
fn main() {}
