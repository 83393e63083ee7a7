#![no_main]
//! Fuzz target: see `asp::fuzzing::audio_packets` (audio packets and the receiver's jitter
//! buffer).
libfuzzer_sys::fuzz_target!(|data: &[u8]| asp::fuzzing::audio_packets(data));
