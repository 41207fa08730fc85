#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nlstat::fuzz::sock_diag_events(data));
