#![no_main]
//! Fuzz target: see `asp_core::fuzzing::session`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    asp_core::fuzzing::session(data);
});
