//! The client's session task: display messages to the decoder, input out, clock probes,
//! statistics and stall reports to the server.

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use asp_core::wire::control::{ControlMessage, KeyframeReason, StallReport, StatsReport};
use asp_core::{ChannelId, ChannelKind, Event};
use asp_transport::Connection;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::cursor::CursorReceiver;
use super::decode::{Arrived, DecoderNews};
use super::{Command, Shared};
use crate::clipboard::pump::ClipboardPump;
use crate::proto::display::FrameHeader;

/// How often the task wakes to probe the clock, look for stalls and report.
const TICK: Duration = Duration::from_millis(50);
/// Clock probes: every tick for the first second (a quick first estimate), then every second.
const FAST_PROBES: u32 = 20;
const PROBE_EVERY_TICKS: u32 = 20;
/// While the decoder waits for a keyframe, ask again this often (the last one may have been
/// lost too).
const KEYFRAME_RETRY_TICKS: u32 = 6;
/// Statistics to the server every second.
const REPORT_EVERY_TICKS: u32 = 20;

struct Task {
    connection: Connection,
    input: ChannelId,
    display: Option<ChannelId>,
    frames: Option<SyncSender<Arrived>>,
    shared: Arc<Shared>,
    ticks: u32,
    last_report: (u64, u64),
    cursor: CursorReceiver,
    clipboard: ClipboardPump,
    /// The client's microphone channel, and the server's audio channels.
    microphone: ChannelId,
    server_audio: Vec<ChannelId>,
    /// The server's window channel.
    server_windows: Vec<ChannelId>,
}

/// The session's other channels: the clipboard's, and the microphone's with what the sender
/// thread makes for it.
pub(super) struct Channels {
    pub(super) clipboard: ClipboardPump,
    pub(super) microphone: ChannelId,
    pub(super) audio_out: mpsc::Receiver<Bytes>,
    /// The client's window channel, for its requests.
    pub(super) window_requests: ChannelId,
    pub(super) usb: crate::usb::link::UsbPump,
}

/// Runs until the server closes, the carrier fails or the application closes.
pub(super) async fn run(
    connection: Connection,
    input: ChannelId,
    frames: SyncSender<Arrived>,
    mut news: mpsc::UnboundedReceiver<DecoderNews>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    channels: Channels,
    shared: Arc<Shared>,
) {
    let Channels { clipboard, microphone, mut audio_out, window_requests, mut usb } = channels;
    let mut usb_tick = tokio::time::interval(crate::usb::link::POLL);
    usb_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut task = Task {
        connection,
        input,
        display: None,
        frames: Some(frames),
        shared,
        ticks: 0,
        last_report: (0, 0),
        cursor: CursorReceiver::default(),
        clipboard,
        microphone,
        server_audio: Vec::new(),
        server_windows: Vec::new(),
    };
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (clipboard_ready, clipboard_retry) = (task.clipboard.ready(), task.clipboard.retry_at());
        let (usb_ready, usb_retry) = (usb.ready(), usb.retry_at());
        tokio::select! {
            event = task.connection.next_event() => match event {
                Some(Event::Closed(_)) | None => break,
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Usb => {
                    usb.on_opened(id, &config);
                }
                Some(Event::Message { channel, data, .. }) if usb.owns(channel) => {
                    usb.on_message(&data);
                    task.shared.lock().stats.usb.clone_from(&usb.stats);
                }
                Some(Event::Message { channel, data, .. }) if task.clipboard.owns(channel) => {
                    task.clipboard.on_message(&data, &task.connection).await;
                    task.note_clipboard();
                }
                Some(e) => task.on_event(e),
            },
            Some(packet) = audio_out.recv() => {
                if task.connection.send(task.microphone, packet, None).await.is_err() {
                    break;
                }
            },
            Some(local) = task.clipboard.next_local() => {
                task.clipboard.on_local(local);
                task.note_clipboard();
            },
            _ = usb_tick.tick(), if usb_ready => {
                if usb.pump(&task.connection).await.is_err() {
                    break;
                }
                task.shared.lock().stats.usb.clone_from(&usb.stats);
            },
            () = tokio::time::sleep_until(usb_retry.unwrap_or_else(tokio::time::Instant::now)),
                if usb_retry.is_some() => usb.retry(),
            () = async {}, if clipboard_ready => {
                if task.clipboard.pump(&task.connection).await.is_err() {
                    break;
                }
            },
            () = tokio::time::sleep_until(clipboard_retry.unwrap_or_else(tokio::time::Instant::now)),
                if clipboard_retry.is_some() => task.clipboard.retry(),
            Some(n) = news.recv() => match n {
                DecoderNews::NeedKeyframe(reason) => task.request_keyframe(reason),
            },
            command = commands.recv() => match command {
                Some(Command::Input(message)) => {
                    if task.connection.send(task.input, Bytes::from(message.encode()), None).await.is_err() {
                        break;
                    }
                }
                Some(Command::Window(request)) => {
                    if task.connection.send(window_requests, request, None).await.is_err() {
                        break;
                    }
                }
                Some(Command::Close) | None => {
                    task.connection.close_and_wait(asp_core::CloseCode::USER, "client closed", Duration::from_secs(1)).await;
                    break;
                }
            },
            _ = tick.tick() => task.on_tick().await,
        }
    }
    // Dropping the sender ends the decode thread once it has drained its queue.
    task.frames = None;
}

impl Task {
    fn on_event(&mut self, event: Event) {
        match event {
            Event::ChannelOpened { id, config } if config.kind == ChannelKind::Display => self.display = Some(id),
            Event::ChannelOpened { id, config } if config.kind == ChannelKind::Cursor => self.cursor.add_channel(id),
            Event::ChannelOpened { id, config } if config.kind == ChannelKind::Clipboard => {
                self.clipboard.on_opened(id, &config);
            }
            Event::ChannelOpened { id, config } if config.kind == ChannelKind::Audio => self.server_audio.push(id),
            Event::ChannelOpened { id, config } if config.kind == ChannelKind::Window => self.server_windows.push(id),
            Event::Message { channel, data, .. } if self.server_windows.contains(&channel) => {
                self.shared.windows.on_event(&data);
            }
            Event::Message { channel, data, .. } if self.server_audio.contains(&channel) => {
                self.shared.audio.deliver(data);
            }
            Event::Message { channel, data, .. } if Some(channel) == self.display => self.on_display(data),
            Event::Message { channel, data, .. } if self.cursor.owns(channel) => {
                self.cursor.on_message(&data, &self.shared.cursor);
            }
            Event::MessageDropped { channel, reason, .. } if Some(channel) == self.display => {
                let mut inner = self.shared.lock();
                if reason == asp_core::DropReason::Deadline {
                    inner.stats.frames_late += 1;
                } else {
                    inner.stats.frames_dropped += 1;
                }
                inner.stall.on_display_activity();
            }
            Event::Control(ControlMessage::TimeEcho { probe_us, peer_us }) => {
                let now = self.shared.clock.now_us();
                self.shared.lock().clock_sync.on_echo(probe_us, peer_us, now);
            }
            _ => {}
        }
    }

    fn note_clipboard(&self) {
        let mut inner = self.shared.lock();
        inner.stats.clipboard.clone_from(self.clipboard.stats());
        if self.clipboard.failure.is_some() {
            inner.stats.clipboard_unavailable.clone_from(&self.clipboard.failure);
        }
    }

    fn on_display(&mut self, data: Bytes) {
        let len = data.len() as u64;
        let (header, bitstream) = match FrameHeader::decode(data) {
            Ok(parts) => parts,
            Err(_) => {
                self.shared.lock().stats.bad_frames += 1;
                return;
            }
        };
        {
            let mut inner = self.shared.lock();
            inner.stats.frames_received += 1;
            inner.stats.video_bytes += len;
            let now = self.shared.clock.now_us();
            if inner.first_ready_us.is_some_and(|first| now >= first + super::WARM_UP_US) {
                inner.stats.video_bytes_after_warm_up += len;
            }
            inner.stall.on_display_activity();
        }
        let Some(frames) = &self.frames else { return };
        match frames.try_send(Arrived { header, bitstream }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let mut inner = self.shared.lock();
                inner.stats.frames_discarded += 1;
                let first = !inner.waiting_for_keyframe;
                inner.waiting_for_keyframe = true;
                drop(inner);
                if first {
                    self.request_keyframe(KeyframeReason::FrameLost);
                }
            }
            Err(TrySendError::Disconnected(_)) => self.frames = None,
        }
    }

    fn request_keyframe(&self, reason: KeyframeReason) {
        if let Some(channel) = self.display {
            self.shared.lock().stats.keyframe_requests += 1;
            let _ = self.connection.send_control(ControlMessage::KeyframeRequest { channel, reason });
        }
    }

    async fn on_tick(&mut self) {
        self.ticks += 1;
        let now = self.shared.clock.now_us();
        if self.ticks <= FAST_PROBES || self.ticks % PROBE_EVERY_TICKS == 0 {
            let _ = self.connection.send_control(ControlMessage::TimeProbe { sent_us: now });
        }
        let Ok((session, _)) = self.connection.stats().await else { return };
        let rtt_us = u64::try_from(session.rtt.smoothed.as_micros()).unwrap_or(u64::MAX);
        let estimate = session.rate.unwrap_or_default();
        if let Some(rate) = &session.rate {
            self.shared.audio.note_path_loss(rate.loss);
        }
        let (stall, waiting) = {
            let mut inner = self.shared.lock();
            inner.stats.rtt_ms = rtt_us as f64 / 1000.0;
            inner.stats.loss = session.loss_rate;
            inner.stats.session_bytes_sent = session.bytes_sent;
            inner.stats.session_bytes_received = session.bytes_received;
            inner.stats.receive_kbps = estimate.received_bps as f64 / 1000.0;
            let stall = inner.stall.poll(now, rtt_us).map(|s| (s, inner.decoder_state.clone()));
            (stall, inner.waiting_for_keyframe)
        };
        if waiting && self.ticks % KEYFRAME_RETRY_TICKS == 0 {
            self.request_keyframe(KeyframeReason::FrameLost);
        }
        if let Some((stall, decoder_state)) = stall {
            let report = StallReport {
                kind: stall.kind,
                duration_ms: u32::try_from(stall.duration_us / 1000).unwrap_or(u32::MAX),
                estimate_kbps: u32::try_from(estimate.target_bps / 1000).unwrap_or(u32::MAX),
                loss_ppm: (session.loss_rate * 1e6) as u32,
                queue_ms: u32::try_from(estimate.queue_delay.as_millis()).unwrap_or(u32::MAX),
                decoder_state,
            };
            let _ = self.connection.send_control(ControlMessage::StallReport(report));
        }
        if self.ticks % REPORT_EVERY_TICKS == 0 {
            let report = {
                let inner = self.shared.lock();
                let s = &inner.stats;
                let shown = s.frames_shown - self.last_report.0;
                let lost = s.frames_late + s.frames_dropped + s.frames_discarded;
                let dropped = lost - self.last_report.1;
                self.last_report = (s.frames_shown, lost);
                StatsReport {
                    rtt_micros: u32::try_from(rtt_us).unwrap_or(u32::MAX),
                    loss_ppm: (session.loss_rate * 1e6) as u32,
                    receive_kbps: u32::try_from(estimate.received_bps / 1000).unwrap_or(u32::MAX),
                    frames_shown: u32::try_from(shown).unwrap_or(u32::MAX),
                    frames_dropped: u32::try_from(dropped).unwrap_or(u32::MAX),
                    decode_micros: s.decode_us_mean as u32,
                }
            };
            let _ = self.connection.send_control(ControlMessage::StatsReport(report));
        }
    }
}
