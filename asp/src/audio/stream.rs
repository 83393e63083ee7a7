//! Audio inside a session: a sender thread that paces an [`AudioSource`] at 20 ms frames onto
//! the session's audio channel, and a player thread that takes packets from the peer's audio
//! channel into an [`AudioReceiver`] and plays one frame per 20 ms into an [`AudioSink`].
//! Both sides of a session use them: the server's desktop audio to the client, the client's
//! microphone to the server.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::pipeline::{AudioReceiver, AudioSender, ReceiverConfig, SenderOutput};
use super::{AudioSink, AudioSource, FRAME_US, OpusConfig, OpusMode};
use crate::clock::Clock;
use crate::metrics::LatencySummary;
use crate::proto::audio::AudioPacket;

/// Counters of one session's audio, both directions.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AudioStats {
    /// Packets sent (frames the encoder did not skip as silence).
    pub packets_sent: u64,
    /// Frames played from their packet.
    pub frames_played: u64,
    /// Frames concealed (lost, late or undecodable).
    pub frames_concealed: u64,
    /// Share of the frames due that were concealed, 0..=1.
    pub concealment_rate: f64,
    /// Packets refused (malformed, or of another stream).
    pub packets_rejected: u64,
    /// Capture to playout, ms, for frames played while the clocks were matched.
    pub latency: LatencySummary,
    /// The jitter buffer's target delay now, ms.
    pub buffer_target_ms: f64,
    /// Why audio stopped, if it did (a source or sink error).
    pub error: Option<String>,
    /// The loss, percent, this side's encoder sizes its protection for: the path's loss over
    /// the last second as the transport measures it; `None` before the first measurement.
    pub expected_loss_percent: Option<u8>,
}

/// What the session shares with its audio threads.
#[derive(Debug)]
pub(crate) struct AudioShared {
    pub(crate) stats: Mutex<AudioStats>,
    /// Where the session task puts the peer's audio packets, once a sink is attached.
    pub(crate) incoming: Mutex<Option<std_mpsc::Sender<Bytes>>>,
    pub(crate) stop: AtomicBool,
    /// The path's recent loss, percent, as the session task last saw it; [`NO_LOSS_FIGURE`]
    /// until then.
    path_loss: AtomicU8,
}

/// [`AudioShared::path_loss`] before any figure.
const NO_LOSS_FIGURE: u8 = u8::MAX;

/// Frames between two looks at the path's loss (one second).
const LOSS_EVERY_FRAMES: u64 = 50;

impl Default for AudioShared {
    fn default() -> Self {
        Self {
            stats: Mutex::default(),
            incoming: Mutex::default(),
            stop: AtomicBool::new(false),
            path_loss: AtomicU8::new(NO_LOSS_FIGURE),
        }
    }
}

impl AudioShared {
    /// The session task's latest figure of the path's loss (a fraction, over about the last
    /// second), for the sender's FEC.
    pub(crate) fn note_path_loss(&self, loss: f64) {
        let percent = (loss * 100.0).ceil().clamp(0.0, 100.0) as u8;
        self.path_loss.store(percent, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> std::sync::MutexGuard<'_, AudioStats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a packet from the peer to the player, if one is attached.
    pub(crate) fn deliver(&self, packet: Bytes) {
        if let Some(tx) = self.incoming.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            let _ = tx.send(packet);
        }
    }
}

/// The clock offset to stamp or read capture times with: peer clock minus this side's, µs.
pub(crate) type Offset = Box<dyn Fn() -> Option<i64> + Send>;

/// Starts [`send_loop`] on a thread of its own.
pub(crate) fn spawn_sender(
    source: Box<dyn AudioSource + Send>,
    mode: OpusMode,
    out: mpsc::Sender<Bytes>,
    clock: Clock,
    to_peer: Offset,
    shared: Arc<AudioShared>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("asp-audio-send".into())
        .spawn(move || send_loop(source, mode, &out, clock, &to_peer, &shared))
}

/// Starts [`play_loop`] on a thread of its own; the peer's packets go to it from now on.
pub(crate) fn spawn_player(
    sink: Box<dyn AudioSink + Send>,
    clock: Clock,
    from_peer: Offset,
    shared: Arc<AudioShared>,
) -> std::io::Result<JoinHandle<()>> {
    let (tx, packets) = std_mpsc::channel();
    *shared.incoming.lock().unwrap_or_else(PoisonError::into_inner) = Some(tx);
    std::thread::Builder::new()
        .name("asp-audio-play".into())
        .spawn(move || play_loop(sink, &packets, clock, &from_peer, &shared))
}

/// Encodes `source` in real time, 20 ms a frame, until it ends or the session stops: paced
/// by this side's clock, or, for a [live](AudioSource::is_live) source, by the source itself
/// (its reads block until the sound card has recorded a frame; sleeping as well would let
/// its buffer grow with the drift between the two clocks). Capture times are stamped on the
/// peer's clock (this side's clock plus `to_peer`); frames captured before the offset is
/// known are not sent, so that the peer never measures latency against a guess.
///
/// `mode` tunes the encoder: [`OpusMode::LowDelay`] for what a desktop plays, [`OpusMode::Voice`]
/// for a microphone. Once a second the encoder is told the path's recent loss (at least 1 %,
/// so that some protection is always there when loss starts), which sizes its in-band FEC in
/// voice mode and how much it leans on the previous frame in CELT.
pub(crate) fn send_loop(
    source: Box<dyn AudioSource + Send>,
    mode: OpusMode,
    out: &mpsc::Sender<Bytes>,
    clock: Clock,
    to_peer: &Offset,
    shared: &AudioShared,
) {
    let config = OpusConfig { mode, channels: source.channels(), ..OpusConfig::default() };
    let live = source.is_live();
    let mut sender = match AudioSender::new(source, config) {
        Ok(s) => s,
        Err(e) => {
            shared.stats().error = Some(e.to_string());
            return;
        }
    };
    let mut next_us = clock.now_us();
    let mut frames = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let now = clock.now_us();
        if now < next_us && !live {
            std::thread::sleep(Duration::from_micros(next_us - now));
        }
        next_us += FRAME_US;
        frames += 1;
        if frames % LOSS_EVERY_FRAMES == 0 {
            let loss = shared.path_loss.load(Ordering::Relaxed);
            if loss != NO_LOSS_FIGURE && shared.stats().expected_loss_percent != Some(loss.max(1)) {
                if let Err(e) = sender.set_expected_loss(loss.max(1)) {
                    shared.stats().error = Some(e.to_string());
                    return;
                }
                shared.stats().expected_loss_percent = Some(loss.max(1));
            }
        }
        let offset = to_peer();
        let capture = clock.now_us().saturating_add_signed(offset.unwrap_or(0));
        match sender.poll(capture) {
            Ok(SenderOutput::Packet(packet)) => {
                if offset.is_none() {
                    continue;
                }
                if out.blocking_send(packet).is_err() {
                    return;
                }
                shared.stats().packets_sent += 1;
            }
            Ok(SenderOutput::Silence) => {}
            Ok(SenderOutput::Ended) => return,
            Err(e) => {
                shared.stats().error = Some(e.to_string());
                return;
            }
        }
    }
}

/// Plays the peer's packets into `sink`, one frame per 20 ms of this side's clock, until the
/// session stops. The stream's channel count is the first packet's. `from_peer` gives the
/// peer's clock minus this side's.
pub(crate) fn play_loop(
    sink: Box<dyn AudioSink + Send>,
    packets: &std_mpsc::Receiver<Bytes>,
    clock: Clock,
    from_peer: &Offset,
    shared: &AudioShared,
) {
    let mut sink = Some(sink);
    let mut receiver: Option<AudioReceiver<Box<dyn AudioSink + Send>>> = None;
    let mut next_us = clock.now_us() + FRAME_US;
    while !shared.stop.load(Ordering::Relaxed) {
        // Take packets until the next tick is due.
        loop {
            let now = clock.now_us();
            if now >= next_us {
                break;
            }
            match packets.recv_timeout(Duration::from_micros(next_us - now)) {
                Ok(packet) => {
                    if receiver.is_none()
                        && let (Ok(header), Some(sink)) = (AudioPacket::decode(packet.clone()), sink.take())
                    {
                        let config = ReceiverConfig { channels: header.channels, ..ReceiverConfig::default() };
                        match AudioReceiver::new(config, sink) {
                            Ok(r) => receiver = Some(r),
                            Err(e) => {
                                shared.stats().error = Some(e.to_string());
                                return;
                            }
                        }
                    }
                    match &mut receiver {
                        Some(r) => {
                            let _ = r.handle_packet(packet, clock.now_us());
                        }
                        None => shared.stats().packets_rejected += 1,
                    }
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => break,
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        next_us += FRAME_US;
        let Some(receiver) = &mut receiver else { continue };
        receiver.set_clock_offset(from_peer());
        if let Err(e) = receiver.tick(clock.now_us()) {
            shared.stats().error = Some(e.to_string());
            return;
        }
        let s = receiver.stats();
        let mut stats = shared.stats();
        stats.frames_played = s.jitter.played;
        stats.frames_concealed = s.jitter.concealed;
        stats.concealment_rate = s.concealment_rate();
        stats.packets_rejected = s.rejected;
        stats.latency = s.latency;
        stats.buffer_target_ms = receiver.jitter().target_us() as f64 / 1000.0;
    }
}
