#![no_main]
//! Fuzz target: see `asp_core::fuzzing::session_input`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp_core::fuzzing::session_input(data));
