//! The facade's messages inside the engine's channels: what a display frame carries besides
//! its bitstream ([`display`]), what the client sends on the input channel ([`input`]), the
//! pointer's shape and position ([`cursor`]), the window management channel for
//! application streaming ([`window`]), and the audio channels' packets ([`audio`]). All are
//! specified byte for byte in docs/PROTOCOL.md §11, "Facade payloads", and every parser here
//! is fuzzed (fuzz/fuzz_targets/).

pub mod audio;
pub mod clipboard;
pub mod cursor;
pub mod display;
pub mod input;
pub mod window;
