//! Shared set-up for the benchmarks in `benches/`: a connected client and server whose
//! datagrams are handed across by hand, with no simulated link in between, so that the figures
//! are the engine's own cost.

use asp_core::{
    ChannelConfig, ChannelId, ChannelKind, Input, Output, Session, SessionConfig, TimeoutReason, Timestamp,
};
use bytes::Bytes;

/// Drains a session: datagrams out, events dropped; returns the datagrams and the wake-up.
pub fn drain(session: &mut Session, now: Timestamp, out: &mut Vec<Bytes>) -> Timestamp {
    loop {
        match session.poll_output(now) {
            Output::Transmit(d) => out.push(d),
            Output::Event(_) => {}
            Output::Timeout(t) => return t,
        }
    }
}

/// Drains a session until it has nothing left that only the pacer holds back, jumping the
/// clock to each pacing wake-up. Returns the final time.
pub fn drain_paced(session: &mut Session, mut now: Timestamp, out: &mut Vec<Bytes>) -> Timestamp {
    loop {
        let wake = drain(session, now, out);
        if session.last_timeout_reason() != TimeoutReason::Pacing {
            return now;
        }
        now = wake;
    }
}

/// A connected pair at time zero. `rate_bps` is the pacing rate of both ends.
///
/// # Panics
/// If the handshake does not complete over a perfect in-memory path (a bug).
#[must_use]
pub fn connected_pair(rate_bps: u64) -> (Session, Session) {
    let now = Timestamp::ZERO;
    let config = SessionConfig { target_rate_bps: rate_bps, pacing_burst: 64 * 1200, ..SessionConfig::default() };
    let mut client = Session::client(config.clone(), now).expect("valid config");
    let mut server = Session::server(SessionConfig { rng_seed: 1, ..config }, now).expect("valid config");
    let mut buf = Vec::new();
    for _ in 0..4 {
        drain(&mut client, now, &mut buf);
        for d in buf.drain(..) {
            server.handle_input(now, Input::Datagram(d));
        }
        drain(&mut server, now, &mut buf);
        for d in buf.drain(..) {
            client.handle_input(now, Input::Datagram(d));
        }
    }
    assert!(client.is_established() && server.is_established());
    (client, server)
}

/// Opens a channel of `kind` on `opener` and lets the two sessions exchange packets until the
/// peer has acknowledged the open, so that data may flow on it.
///
/// # Panics
/// If the open is refused or not acknowledged over a perfect in-memory path (a bug).
pub fn open_confirmed(opener: &mut Session, peer: &mut Session, kind: ChannelKind, now: Timestamp) -> ChannelId {
    let id = opener.open_channel(ChannelConfig::for_kind(kind)).expect("channel opens");
    let mut buf = Vec::new();
    for _ in 0..4 {
        drain(opener, now, &mut buf);
        for d in buf.drain(..) {
            peer.handle_input(now, Input::Datagram(d));
        }
        // The peer acknowledges after its delayed-ack timer at the latest.
        drain(peer, now + std::time::Duration::from_millis(10), &mut buf);
        for d in buf.drain(..) {
            opener.handle_input(now, Input::Datagram(d));
        }
    }
    id
}
