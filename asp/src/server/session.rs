//! The server's session task: sends what the encoder made, and answers the client: input to
//! the injector, clock probes, keyframe requests, rate changes, stall reports.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use asp_core::wire::control::ControlMessage;
use asp_core::{ChannelId, ChannelKind, Event};
use asp_transport::Connection;
use tokio::sync::mpsc;

use super::cursor::CursorOut;
use super::encode::Outgoing;
use super::{Shared, StallAlarm};
use crate::clipboard::pump::ClipboardPump;
use crate::proto::input::{InputEvent, InputMessage};
use crate::source::InputInjector;

/// The least time a keyframe gets to reach the client.
const KEYFRAME_DEADLINE: Duration = Duration::from_secs(1);

/// How often the task looks at the stop flag when nothing else happens.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The cursor thread's messages and the two channels they go on.
#[derive(Debug)]
pub(super) struct CursorChannels {
    /// Shapes: reliable.
    pub(super) shapes: ChannelId,
    /// Positions: latest wins.
    pub(super) states: ChannelId,
    pub(super) messages: mpsc::Receiver<CursorOut>,
}

/// Where the server's pipeline sends.
#[derive(Debug)]
pub(super) struct Outputs {
    pub(super) display: ChannelId,
    pub(super) cursor: Option<CursorChannels>,
    pub(super) clipboard: ClipboardPump,
    /// The desktop's audio: its channel, and what the sender thread makes for it.
    pub(super) playback: ChannelId,
    pub(super) audio_out: mpsc::Receiver<bytes::Bytes>,
    /// The window channel, and what the window worker makes for it.
    pub(super) windows: ChannelId,
    pub(super) windows_out: mpsc::Receiver<bytes::Bytes>,
    /// The USB channel's stream, to and from the application's guest.
    pub(super) usb: crate::usb::link::UsbPump,
}

/// Runs until the client goes away or the pipeline is stopped; then closes the session.
pub(super) async fn run(
    mut connection: Connection,
    outputs: Outputs,
    mut encoded: mpsc::Receiver<Outgoing>,
    input: std_mpsc::Sender<(u64, InputEvent)>,
    alarms: mpsc::UnboundedSender<StallAlarm>,
    shared: Arc<Shared>,
    deadline: Duration,
) {
    let Outputs { display, mut cursor, mut clipboard, playback, mut audio_out, windows, mut windows_out, mut usb } =
        outputs;
    let mut usb_tick = tokio::time::interval(crate::usb::link::POLL);
    usb_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut input_channels: Vec<ChannelId> = Vec::new();
    let mut microphones: Vec<ChannelId> = Vec::new();
    let mut window_requests: Vec<ChannelId> = Vec::new();
    let mut encoder_open = true;
    loop {
        let (clipboard_ready, clipboard_retry) = (clipboard.ready(), clipboard.retry_at());
        let (usb_ready, usb_retry) = (usb.ready(), usb.retry_at());
        tokio::select! {
            _ = usb_tick.tick(), if usb_ready => {
                if usb.pump(&connection).await.is_err() {
                    break;
                }
                shared.stats().usb.clone_from(&usb.stats);
            },
            () = tokio::time::sleep_until(usb_retry.unwrap_or_else(tokio::time::Instant::now)),
                if usb_retry.is_some() => usb.retry(),
            Some(message) = async { cursor.as_mut()?.messages.recv().await } => {
                let Some(channels) = &cursor else { continue };
                let sent = match message {
                    CursorOut::Shape(bytes) => connection.send(channels.shapes, bytes, None).await,
                    CursorOut::State(bytes) => connection.send(channels.states, bytes, None).await,
                };
                if sent.is_err() {
                    break;
                }
            },
            outgoing = encoded.recv(), if encoder_open => match outgoing {
                Some(o) => {
                    // Without its keyframe the client can show nothing: give it time rather
                    // than drop it (a keyframe is larger and follows a loss or a start).
                    let deadline = if o.keyframe { deadline.max(KEYFRAME_DEADLINE) } else { deadline };
                    if connection.send(display, o.message, Some(deadline)).await.is_err() {
                        break;
                    }
                }
                None => encoder_open = false,
            },
            Some(packet) = audio_out.recv() => {
                if connection.send(playback, packet, None).await.is_err() {
                    break;
                }
            },
            Some(event) = windows_out.recv() => {
                if connection.send(windows, event, None).await.is_err() {
                    break;
                }
            },
            Some(local) = clipboard.next_local() => {
                clipboard.on_local(local);
                note_clipboard(&shared, &clipboard);
            },
            () = async {}, if clipboard_ready => {
                if clipboard.pump(&connection).await.is_err() {
                    break;
                }
            },
            () = tokio::time::sleep_until(clipboard_retry.unwrap_or_else(tokio::time::Instant::now)),
                if clipboard_retry.is_some() => clipboard.retry(),
            event = connection.next_event() => match event {
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Input => input_channels.push(id),
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Clipboard => {
                    clipboard.on_opened(id, &config);
                }
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Audio => microphones.push(id),
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Window => {
                    window_requests.push(id);
                }
                Some(Event::ChannelOpened { id, config }) if config.kind == ChannelKind::Usb => {
                    usb.on_opened(id, &config);
                }
                Some(Event::Message { channel, data, .. }) if usb.owns(channel) => {
                    usb.on_message(&data);
                    shared.stats().usb.clone_from(&usb.stats);
                }
                Some(Event::Message { channel, data, .. }) if microphones.contains(&channel) => shared.audio.deliver(data),
                Some(Event::Message { channel, data, .. }) if window_requests.contains(&channel) => {
                    shared.windows.deliver_request(data);
                }
                Some(Event::Message { channel, data, .. }) if clipboard.owns(channel) => {
                    clipboard.on_message(&data, &connection).await;
                    note_clipboard(&shared, &clipboard);
                }
                Some(Event::Message { channel, data, .. }) if input_channels.contains(&channel) => {
                    match InputMessage::decode(&data) {
                        Ok(m) => {
                            let _ = input.send((m.seq, m.event));
                        }
                        Err(_) => shared.stats().input_bad_messages += 1,
                    }
                }
                Some(Event::Control(message)) => on_control(&connection, message, &shared, &alarms),
                Some(Event::TargetRate(estimate)) => {
                    shared.target_bps.store(estimate.media_bps, Ordering::Relaxed);
                    shared.audio.note_path_loss(estimate.loss);
                }
                Some(Event::Closed(_)) | None => break,
                Some(_) => {}
            },
            () = tokio::time::sleep(STOP_POLL) => {}
        }
        if shared.stopped() {
            break;
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    connection.close_and_wait(asp_core::CloseCode::USER, "server stopped", Duration::from_secs(1)).await;
}

fn note_clipboard(shared: &Shared, clipboard: &ClipboardPump) {
    let mut stats = shared.stats();
    stats.clipboard.clone_from(clipboard.stats());
    if clipboard.failure.is_some() {
        stats.clipboard_unavailable.clone_from(&clipboard.failure);
    }
}

fn on_control(
    connection: &Connection,
    message: ControlMessage,
    shared: &Shared,
    alarms: &mpsc::UnboundedSender<StallAlarm>,
) {
    match message {
        ControlMessage::TimeProbe { sent_us } => {
            let _ =
                connection.send_control(ControlMessage::TimeEcho { probe_us: sent_us, peer_us: shared.clock.now_us() });
        }
        ControlMessage::KeyframeRequest { .. } => {
            shared.keyframe.store(true, Ordering::Relaxed);
            shared.stats().keyframe_requests += 1;
        }
        ControlMessage::StallReport(report) => {
            shared.stats().stalls += 1;
            let _ = alarms.send(StallAlarm { at_us: shared.clock.now_us(), report });
        }
        _ => {}
    }
}

/// Applies input events in order until the session ends.
pub(super) fn inject_loop(
    mut injector: Box<dyn InputInjector>,
    events: &std_mpsc::Receiver<(u64, InputEvent)>,
    shared: &Shared,
) {
    while !shared.stopped() {
        match events.recv_timeout(STOP_POLL) {
            Ok((seq, event)) => {
                let result = injector.inject(seq, &event);
                shared.input_bell.ring();
                let mut stats = shared.stats();
                stats.input_events += 1;
                stats.input_inject_errors += u64::from(result.is_err());
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
}
