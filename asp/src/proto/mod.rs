//! The facade's messages inside the engine's channels: what a display frame carries besides
//! its bitstream ([`display`]), what the client sends on the input channel ([`input`]), and
//! the window management channel for application streaming ([`window`]). All are specified
//! byte for byte in docs/PROTOCOL.md §11, "Facade payloads", and every parser here is fuzzed
//! (fuzz/fuzz_targets/facade_messages.rs, window_messages.rs).

pub mod display;
pub mod input;
pub mod window;
