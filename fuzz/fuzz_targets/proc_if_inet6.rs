#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nlstat::fuzz::proc_if_inet6(data));
