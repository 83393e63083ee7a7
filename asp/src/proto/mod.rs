//! The facade's messages inside the engine's channels: what a display frame carries besides
//! its bitstream ([`display`]), and what the client sends on the input channel ([`input`]).
//! Both are specified byte for byte in docs/PROTOCOL.md §11, "Facade payloads", and every parser
//! here is fuzzed (fuzz/fuzz_targets/facade_messages.rs).

pub mod display;
pub mod input;
