//! Deterministic network simulation in virtual time: links with impairments, a [`Pair`] of
//! sessions over them, and scenarios written as data.

pub mod library;
pub mod link;
pub mod pair;
pub mod reno;
pub mod scenario;
pub mod shared;

pub use link::{BurstLoss, Link, LinkProfile, LinkStats};
pub use pair::{Pair, Side};
pub use scenario::{Change, Flow, FlowReport, Report, Scenario, ScenarioError, Tick, Traffic};
pub use shared::{FlowKind, SharedFlow, SharedFlowReport, SharedReport, SharedScenario};
