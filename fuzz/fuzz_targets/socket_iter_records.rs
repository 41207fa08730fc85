#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nlstat::fuzz::socket_iter_records(data));
