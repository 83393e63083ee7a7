//! Helpers shared by the integration tests. Each test file uses part of them.
#![allow(dead_code, unreachable_pub)]

#[cfg(target_os = "linux")]
pub mod xvfb;

pub mod cc;
pub mod png;
pub mod rng;
