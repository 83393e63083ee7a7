//! Two sessions joined by two simulated links, stepped in virtual time: every step jumps the
//! clock to the next thing that happens (a datagram arriving, a session timer) so that minutes
//! of traffic run in a fraction of a second, the same way for the same seeds.

use crate::config::InvalidConfig;
use crate::config::SessionConfig;
use crate::session::{Event, Input, Output, Session};
use crate::sim::link::{Link, LinkProfile};
use crate::time::Timestamp;

/// Which end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client session.
    Client,
    /// The server session.
    Server,
}

/// Outputs drained from one session in one go, at most; a session that produces more without
/// returning a timeout is looping, and the harness says so.
const MAX_OUTPUTS_PER_DRIVE: usize = 1_000_000;

/// A client and a server over a simulated path.
#[derive(Debug)]
pub struct Pair {
    /// The client session.
    pub client: Session,
    /// The server session.
    pub server: Session,
    /// Client to server.
    pub uplink: Link,
    /// Server to client.
    pub downlink: Link,
    now: Timestamp,
    client_wake: Timestamp,
    server_wake: Timestamp,
    /// Steps in a row that did not move the clock: a session asking to be woken in the past
    /// again and again is a bug the harness reports rather than spins on.
    idle_steps: u32,
}

impl Pair {
    /// Builds both sessions and links at time zero. Link seeds derive from `seed`.
    ///
    /// # Errors
    /// A configuration the sessions refuse.
    pub fn new(
        client: SessionConfig,
        server: SessionConfig,
        uplink: LinkProfile,
        downlink: LinkProfile,
        seed: u64,
    ) -> Result<Self, InvalidConfig> {
        let now = Timestamp::ZERO;
        Ok(Pair {
            client: Session::client(client, now)?,
            server: Session::server(server, now)?,
            uplink: Link::new(uplink, seed.wrapping_mul(2).wrapping_add(1)),
            downlink: Link::new(downlink, seed.wrapping_mul(2).wrapping_add(2)),
            now,
            client_wake: now,
            server_wake: now,
            idle_steps: 0,
        })
    }

    /// The virtual clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Drains both sessions' outputs at the current time: datagrams onto the links, events to
    /// `on_event`.
    pub fn drive(&mut self, on_event: &mut dyn FnMut(Side, Timestamp, Event)) {
        let now = self.now;
        self.client_wake = drain(&mut self.client, &mut self.uplink, now, Side::Client, on_event);
        self.server_wake = drain(&mut self.server, &mut self.downlink, now, Side::Server, on_event);
    }

    /// Advances to the next thing that happens, but not past `limit`; delivers what arrived,
    /// fires due timers and drives both sessions. Returns the new time.
    pub fn step(&mut self, limit: Timestamp, on_event: &mut dyn FnMut(Side, Timestamp, Event)) -> Timestamp {
        let mut next = limit.min(self.client_wake).min(self.server_wake);
        for link in [&self.uplink, &self.downlink] {
            if let Some(t) = link.next_arrival() {
                next = next.min(t);
            }
        }
        if next <= self.now {
            self.idle_steps += 1;
            assert!(self.idle_steps < 100_000, "sessions keep asking to be woken at {:?} without progress", self.now);
        } else {
            self.idle_steps = 0;
        }
        self.now = self.now.max(next);
        let now = self.now;
        while let Some(d) = self.uplink.receive(now) {
            self.server.handle_input(now, Input::Datagram(d));
        }
        while let Some(d) = self.downlink.receive(now) {
            self.client.handle_input(now, Input::Datagram(d));
        }
        if now >= self.client_wake {
            self.client.handle_input(now, Input::Timeout);
        }
        if now >= self.server_wake {
            self.server.handle_input(now, Input::Timeout);
        }
        self.drive(on_event);
        now
    }

    /// Steps until `t`.
    pub fn run_until(&mut self, t: Timestamp, on_event: &mut dyn FnMut(Side, Timestamp, Event)) {
        self.drive(on_event);
        while self.now < t {
            self.step(t, on_event);
        }
    }

    /// Steps until both sessions are established or `limit` passes; returns whether they are.
    pub fn connect(&mut self, limit: Timestamp, on_event: &mut dyn FnMut(Side, Timestamp, Event)) -> bool {
        self.drive(on_event);
        while !(self.client.is_established() && self.server.is_established()) && self.now < limit {
            if self.client.is_closed() || self.server.is_closed() {
                return false;
            }
            self.step(limit, on_event);
        }
        self.client.is_established() && self.server.is_established()
    }

    /// Session of one side.
    pub fn session(&mut self, side: Side) -> &mut Session {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }
}

fn drain(
    session: &mut Session,
    link: &mut Link,
    now: Timestamp,
    side: Side,
    on_event: &mut dyn FnMut(Side, Timestamp, Event),
) -> Timestamp {
    for _ in 0..MAX_OUTPUTS_PER_DRIVE {
        match session.poll_output(now) {
            Output::Transmit(d) => link.send(now, d),
            Output::Event(e) => on_event(side, now, e),
            Output::Timeout(t) => return t,
        }
    }
    panic!("{side:?} session produced {MAX_OUTPUTS_PER_DRIVE} outputs at {now:?} without a timeout");
}
