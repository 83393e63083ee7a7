//! Audio on the audio channels: what the server plays to the client (and, later, what the
//! client's microphone sends back), as Opus in [`crate::proto::audio`] packets on an
//! unreliable channel, lost packets concealed by the receiver.
//!
//! This module owns the pieces that do not depend on a session: where samples come from
//! ([`source`]: a tone, a WAV file) and where they go ([`sink`]: a WAV file, memory), the
//! desktop's sound card both ways through PulseAudio (`pulse`, in the feature of that name),
//! the receiver's adaptive [`jitter`] buffer, and the two ends that join them ([`pipeline`]):
//! [`AudioSender`] (source → Opus → packets) and [`AudioReceiver`] (packets → jitter buffer →
//! decode or conceal → sink, with one-way latency and concealment figures). Like asp-core they
//! read no clock and own no thread: capture times, arrival times and playout ticks are passed
//! in, in µs, so a test runs minutes of audio over a simulated network in a moment. The
//! session that carries the packets drives them.
//!
//! Audio is 48 kHz, 16-bit, mono or stereo (interleaved), in frames of 20 ms.
//!
//! ```
//! use asp::audio::{AudioReceiver, AudioSender, MemorySink, OpusConfig, ReceiverConfig};
//! use asp::audio::{FRAME_US, SenderOutput, ToneSource};
//!
//! let mut sender = AudioSender::new(ToneSource::new(440.0, 8_000, 2), OpusConfig::default())?;
//! let mut receiver = AudioReceiver::new(ReceiverConfig::default(), MemorySink::new())?;
//! receiver.set_clock_offset(Some(0)); // one clock for both ends here
//! for k in 0..50 {
//!     let now = k * FRAME_US;
//!     // The sender captures a frame; the network takes 5 ms to carry it.
//!     if let SenderOutput::Packet(packet) = sender.poll(now)? {
//!         let _ = receiver.handle_packet(packet, now + 5_000)?;
//!     }
//!     // The playback device asks for a frame.
//!     let _ = receiver.tick(now + 6_000)?;
//! }
//! let stats = receiver.stats();
//! assert_eq!(stats.concealment_rate(), 0.0);
//! assert!(stats.jitter.played > 40 && stats.latency.mean < 60.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod jitter;
pub mod pipeline;
#[cfg(feature = "pulse")]
pub mod pulse;
pub mod quality;
pub mod sink;
pub mod source;
pub(crate) mod stream;

pub use stream::AudioStats;

pub use asp_codec::audio::{OpusConfig, OpusMode};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};
pub use pipeline::{AudioReceiver, AudioSender, ReceiverConfig, ReceiverStats, SenderOutput, Tick, TickOutcome};
pub use sink::{AudioSink, MemorySink, NullSink, WavSink};
pub use source::{AudioSource, QueueSource, ToneSource, WavError, WavSource};

/// Samples per second per channel.
pub const SAMPLE_RATE: u32 = 48_000;
/// Duration of a frame, µs.
pub const FRAME_US: u64 = 20_000;
/// Samples per channel in a frame (20 ms at 48 kHz).
pub const FRAME_SAMPLES: usize = 960;

/// The channel count of a played 20 ms frame, from its length: a session plays stereo unless
/// the peer sends mono, and sinks learn which from the frames they are handed.
#[must_use]
pub fn frame_channels(samples: &[i16]) -> u8 {
    if samples.len() == FRAME_SAMPLES { 1 } else { 2 }
}
