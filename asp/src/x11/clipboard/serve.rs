//! Owning CLIPBOARD: taking it with a server timestamp, answering `SelectionRequest`s
//! (`TARGETS`, `TIMESTAMP`, `MULTIPLE`, the content's targets), and INCR transfers of what
//! does not fit one property.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::Instant;

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, EventMask, PropMode, Property, PropertyNotifyEvent,
    SELECTION_NOTIFY_EVENT, SelectionClearEvent, SelectionNotifyEvent, SelectionRequestEvent, Window,
};
use x11rb::wrapper::ConnectionExt as _;

use super::format::{self, CURRENT_TIME, Target};
use super::{Broken, ClipboardTransferError, Ctx, Failure, MAX_ATOM_LIST, SERVER_TIMEOUT, X11Error};
use crate::clipboard::ClipboardContent;

/// How a `SelectionRequest` was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// With property `None`.
    Refused,
    /// With the data in the property.
    Served,
    /// With an INCR transfer, now under way.
    Incr,
}

/// What this clipboard serves, and the `set`s waiting for a timestamp.
pub(super) struct Owner {
    owned: Option<Owned>,
    /// In the order their zero-length appends were sent: each `PropertyNotify` answers the
    /// oldest.
    pending: VecDeque<Pending>,
    sends: Vec<IncrSend>,
}

/// Content held as the CLIPBOARD owner.
struct Owned {
    /// When the ownership began (server time).
    time: u32,
    targets: &'static [Target],
    /// The main target's bytes (UTF-8 text, the PNG, the `text/uri-list`).
    bytes: Arc<[u8]>,
    /// Text as Latin-1, made on the first `STRING` request.
    latin1: Option<Arc<[u8]>>,
}

/// A `set` waiting for its timestamp.
struct Pending {
    content: ClipboardContent,
    reply: SyncSender<Result<(), X11Error>>,
    deadline: Instant,
}

/// An INCR transfer to a requestor.
struct IncrSend {
    requestor: Window,
    property: Atom,
    type_: Atom,
    data: Arc<[u8]>,
    /// How much was written so far.
    offset: usize,
    /// When the requestor is overdue to delete what was written.
    deadline: Instant,
}

impl Owner {
    pub(super) fn new() -> Self {
        Self { owned: None, pending: VecDeque::new(), sends: Vec::new() }
    }

    /// When the next peer or server answer is overdue.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.deadline).chain(self.sends.iter().map(|s| s.deadline)).min()
    }

    /// `set(content)`: asks the server for a timestamp by appending nothing to a property of
    /// our window ([`on_timestamp`](Self::on_timestamp) goes on).
    pub(super) fn request_set(
        &mut self,
        cx: &Ctx,
        content: ClipboardContent,
        reply: SyncSender<Result<(), X11Error>>,
        now: Instant,
    ) -> Result<(), Broken> {
        cx.conn.change_property8(PropMode::APPEND, cx.window, cx.atoms.STAMP, AtomEnum::STRING, &[])?;
        self.pending.push_back(Pending { content, reply, deadline: now + SERVER_TIMEOUT });
        Ok(())
    }

    /// The server's time for the oldest pending `set`: takes CLIPBOARD with it.
    pub(super) fn on_timestamp(&mut self, cx: &Ctx, time: u32) -> Result<(), Broken> {
        let Some(pending) = self.pending.pop_front() else { return Ok(()) };
        let targets = format::served_targets(&pending.content);
        cx.conn.set_selection_owner(cx.window, cx.atoms.CLIPBOARD, time)?;
        let result = match cx.conn.get_selection_owner(cx.atoms.CLIPBOARD)?.reply() {
            Ok(reply) if reply.owner == cx.window => {
                let bytes = format::encode(pending.content).into();
                self.owned = Some(Owned { time, targets, bytes, latin1: None });
                Ok(())
            }
            Ok(reply) => Err(X11Error::Request(format!("window {:#x} kept CLIPBOARD", reply.owner))),
            Err(x11rb::errors::ReplyError::ConnectionError(e)) => return Err(e.into()),
            Err(e) => Err(X11Error::Request(e.to_string())),
        };
        // The caller may have given up waiting; nothing to do then.
        let _ = pending.reply.try_send(result);
        Ok(())
    }

    /// Another client took CLIPBOARD (a clear timed before our latest ownership is stale).
    pub(super) fn on_selection_clear(&mut self, ev: &SelectionClearEvent) {
        if self.owned.as_ref().is_some_and(|o| format::at_or_after(ev.time, o.time)) {
            self.owned = None;
        }
    }

    /// Answers a `SelectionRequest`.
    pub(super) fn on_selection_request(
        &mut self,
        cx: &Ctx,
        ev: &SelectionRequestEvent,
        now: Instant,
    ) -> Result<Answer, Broken> {
        // ICCCM: a requestor giving no property is obsolete; use the target's name.
        let property = if ev.property == x11rb::NONE { ev.target } else { ev.property };
        let answer = match self.answer(cx, ev, property, now) {
            Ok(answer) => answer,
            Err(Failure::Transfer(_)) => Answer::Refused,
            Err(Failure::Broken(broken)) => return Err(broken),
        };
        let notify = SelectionNotifyEvent {
            response_type: SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: ev.time,
            requestor: ev.requestor,
            selection: ev.selection,
            target: ev.target,
            property: if answer == Answer::Refused { x11rb::NONE } else { property },
        };
        // The requestor may be gone already: its errors are nobody's business.
        cx.conn.send_event(false, ev.requestor, EventMask::NO_EVENT, notify)?.ignore_error();
        Ok(answer)
    }

    fn answer(
        &mut self,
        cx: &Ctx,
        ev: &SelectionRequestEvent,
        property: Atom,
        now: Instant,
    ) -> Result<Answer, Failure> {
        let Some(owned) = &self.owned else { return Ok(Answer::Refused) };
        let in_time = ev.time == CURRENT_TIME || format::at_or_after(ev.time, owned.time);
        if ev.selection != cx.atoms.CLIPBOARD || ev.owner != cx.window || !in_time {
            return Ok(Answer::Refused);
        }
        if ev.target != cx.atoms.MULTIPLE {
            return self.convert(cx, ev.requestor, ev.target, property, true, now);
        }
        if ev.property == x11rb::NONE {
            return Ok(Answer::Refused);
        }
        // MULTIPLE: the property holds (target, property) pairs; each pair not converted gets
        // its property replaced by None. INCR is not used within it.
        let reply =
            cx.conn.get_property(false, ev.requestor, property, AtomEnum::ANY, 0, 2 * MAX_ATOM_LIST)?.reply()?;
        let Some(atoms) = reply.value32() else { return Ok(Answer::Refused) };
        let mut pairs: Vec<Atom> = atoms.collect();
        pairs.truncate(pairs.len() & !1);
        for pair in pairs.chunks_exact_mut(2) {
            let converted = pair[1] != x11rb::NONE
                && pair[0] != cx.atoms.MULTIPLE
                && self.convert(cx, ev.requestor, pair[0], pair[1], false, now)? == Answer::Served;
            if !converted {
                pair[1] = x11rb::NONE;
            }
        }
        cx.conn
            .change_property32(PropMode::REPLACE, ev.requestor, property, cx.atoms.ATOM_PAIR, &pairs)?
            .ignore_error();
        Ok(Answer::Served)
    }

    /// Writes `target` to the requestor's `property`, or starts an INCR transfer of it when
    /// `incr` allows (a target not served, or one too large without `incr`, is refused).
    fn convert(
        &mut self,
        cx: &Ctx,
        requestor: Window,
        target: Atom,
        property: Atom,
        incr: bool,
        now: Instant,
    ) -> Result<Answer, Failure> {
        let Some(owned) = self.owned.as_mut() else { return Ok(Answer::Refused) };
        let conn = &cx.conn;
        if target == cx.atoms.TARGETS {
            let fixed = [cx.atoms.TARGETS, cx.atoms.TIMESTAMP, cx.atoms.MULTIPLE];
            let atoms: Vec<Atom> = fixed.into_iter().chain(owned.targets.iter().map(|&t| cx.atom(t))).collect();
            conn.change_property32(PropMode::REPLACE, requestor, property, AtomEnum::ATOM, &atoms)?.ignore_error();
            return Ok(Answer::Served);
        }
        if target == cx.atoms.TIMESTAMP {
            let time = [owned.time];
            conn.change_property32(PropMode::REPLACE, requestor, property, AtomEnum::INTEGER, &time)?.ignore_error();
            return Ok(Answer::Served);
        }
        let Some(target) = cx.target(target).filter(|t| owned.targets.contains(t)) else { return Ok(Answer::Refused) };
        let (type_, data) = match target {
            Target::Latin1String => {
                let text = String::from_utf8_lossy(&owned.bytes);
                let latin1 = owned.latin1.get_or_insert_with(|| format::to_latin1(&text).into());
                (AtomEnum::STRING.into(), Arc::clone(latin1))
            }
            Target::Text => (cx.atoms.UTF8_STRING, Arc::clone(&owned.bytes)),
            other => (cx.atom(other), Arc::clone(&owned.bytes)),
        };
        if data.len() <= cx.chunk {
            conn.change_property8(PropMode::REPLACE, requestor, property, type_, &data)?.ignore_error();
            return Ok(Answer::Served);
        }
        if !incr {
            return Ok(Answer::Refused);
        }
        // INCR: the size (a lower bound past 4 GiB), then a chunk after each deletion of the
        // property by the requestor, whose PropertyNotify events we select.
        let events = ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE);
        conn.change_window_attributes(requestor, &events)?.ignore_error();
        let size = [u32::try_from(data.len()).unwrap_or(u32::MAX)];
        conn.change_property32(PropMode::REPLACE, requestor, property, cx.atoms.INCR, &size)?.ignore_error();
        self.sends.retain(|s| (s.requestor, s.property) != (requestor, property));
        self.sends.push(IncrSend { requestor, property, type_, data, offset: 0, deadline: now + cx.peer_timeout });
        Ok(Answer::Incr)
    }

    /// A property of another client's window changed: when an INCR requestor deleted what was
    /// written, writes the next chunk (an empty one at the end).
    pub(super) fn on_requestor_property(
        &mut self,
        cx: &Ctx,
        ev: &PropertyNotifyEvent,
        now: Instant,
    ) -> Result<(), Broken> {
        if ev.state != Property::DELETE {
            return Ok(());
        }
        let Some(i) = self.sends.iter().position(|s| (s.requestor, s.property) == (ev.window, ev.atom)) else {
            return Ok(());
        };
        let send = &mut self.sends[i];
        let end = send.data.len().min(send.offset + cx.chunk);
        let chunk = &send.data[send.offset..end];
        cx.conn.change_property8(PropMode::APPEND, send.requestor, send.property, send.type_, chunk)?.ignore_error();
        if chunk.is_empty() {
            let done = self.sends.swap_remove(i);
            self.forget_requestor(cx, done.requestor)?;
        } else {
            send.offset = end;
            send.deadline = now + cx.peer_timeout;
        }
        Ok(())
    }

    /// Stops selecting a requestor's property changes once no transfer to it is left.
    fn forget_requestor(&self, cx: &Ctx, requestor: Window) -> Result<(), Broken> {
        if !self.sends.iter().any(|s| s.requestor == requestor) {
            let events = ChangeWindowAttributesAux::new().event_mask(EventMask::NO_EVENT);
            cx.conn.change_window_attributes(requestor, &events)?.ignore_error();
        }
        Ok(())
    }

    /// Fails the `set`s the server did not give a timestamp for in time, and drops the INCR
    /// transfers whose requestor stopped reading: those, as errors.
    pub(super) fn expire(&mut self, cx: &Ctx, now: Instant) -> Result<Vec<ClipboardTransferError>, Broken> {
        while self.pending.front().is_some_and(|p| p.deadline <= now) {
            if let Some(p) = self.pending.pop_front() {
                let why = format!("the X server gave no timestamp within {SERVER_TIMEOUT:?}");
                let _ = p.reply.try_send(Err(X11Error::Request(why)));
            }
        }
        let mut stalled = Vec::new();
        while let Some(i) = self.sends.iter().position(|s| s.deadline <= now) {
            let send = self.sends.swap_remove(i);
            self.forget_requestor(cx, send.requestor)?;
            // Leave the requestor's property as it was: it may still be reading it.
            stalled.push(ClipboardTransferError::Stalled { requestor: send.requestor, waited: cx.peer_timeout });
        }
        if !stalled.is_empty() {
            cx.conn.flush()?;
        }
        Ok(stalled)
    }
}
