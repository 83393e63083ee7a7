//! Reading another client's copy: `TARGETS`, then the best target it offers, in one property
//! or by INCR, within the size limit and the peer timeout.

use std::collections::VecDeque;
use std::time::Instant;

use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, Property, PropertyNotifyEvent, SelectionNotifyEvent,
};

use super::format::{self, CURRENT_TIME, Target};
use super::{Broken, ClipboardTransferError, Ctx, Failure, MAX_ATOM_LIST};
use crate::clipboard::ClipboardContent;

/// The read in progress, if any (a newer copy abandons it).
pub(super) struct Reader {
    read: Option<Read>,
    /// Which of the two receiving properties the next read uses.
    use_b: bool,
}

/// One copy being read.
struct Read {
    /// The time of the ownership change that started it: every conversion is asked with it.
    time: u32,
    /// Our window's property the owner writes to.
    property: Atom,
    stage: Stage,
    /// The offered targets not tried yet, best first.
    candidates: VecDeque<Target>,
    /// When the owner is overdue.
    deadline: Instant,
}

enum Stage {
    /// `TARGETS` asked for.
    Targets,
    /// A target asked for.
    Data(Target),
    /// A target coming by INCR: the chunks so far.
    Incr { target: Target, data: Vec<u8> },
}

impl Reader {
    pub(super) fn new() -> Self {
        Self { read: None, use_b: false }
    }

    /// When the owner of the copy being read is overdue.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.read.as_ref().map(|r| r.deadline)
    }

    /// Another client took CLIPBOARD at `time`: asks it for `TARGETS`, dropping the read of
    /// any earlier copy.
    pub(super) fn start(&mut self, cx: &Ctx, time: u32, now: Instant) -> Result<(), Failure> {
        self.abandon(cx)?;
        self.use_b = !self.use_b;
        let property = if self.use_b { cx.atoms.RECEIVE_B } else { cx.atoms.RECEIVE_A };
        cx.conn.convert_selection(cx.window, cx.atoms.CLIPBOARD, cx.atoms.TARGETS, property, time)?;
        let deadline = now + cx.peer_timeout;
        self.read = Some(Read { time, property, stage: Stage::Targets, candidates: VecDeque::new(), deadline });
        Ok(())
    }

    /// Drops the read in progress and what it left in its property.
    pub(super) fn abandon(&mut self, cx: &Ctx) -> Result<(), Broken> {
        if let Some(read) = self.read.take() {
            cx.conn.delete_property(cx.window, read.property)?;
        }
        Ok(())
    }

    /// Drops the read if its owner is overdue.
    pub(super) fn expire(&mut self, cx: &Ctx, now: Instant) -> Result<Option<ClipboardTransferError>, Broken> {
        if self.read.as_ref().is_some_and(|r| r.deadline <= now) {
            self.abandon(cx)?;
            return Ok(Some(ClipboardTransferError::Timeout { waited: cx.peer_timeout }));
        }
        Ok(None)
    }

    /// The owner answered a conversion: reads the targets or the data, or starts INCR.
    pub(super) fn on_selection_notify(
        &mut self,
        cx: &Ctx,
        ev: &SelectionNotifyEvent,
        now: Instant,
    ) -> Result<Option<ClipboardContent>, Failure> {
        let Some(read) = self.read.as_mut() else { return Ok(None) };
        // Owners must echo the request's time; some send CurrentTime.
        let ours = ev.selection == cx.atoms.CLIPBOARD
            && (ev.time == read.time || ev.time == CURRENT_TIME)
            && (ev.property == read.property || ev.property == x11rb::NONE);
        if !ours {
            return Ok(None);
        }
        match read.stage {
            Stage::Targets if ev.target == cx.atoms.TARGETS => {
                read.candidates = if ev.property == x11rb::NONE {
                    format::WITHOUT_TARGETS.into()
                } else {
                    let reply = cx
                        .conn
                        .get_property(true, cx.window, read.property, AtomEnum::ANY, 0, MAX_ATOM_LIST)?
                        .reply()?;
                    match reply.value32() {
                        Some(atoms) => {
                            let offered: Vec<Target> = atoms.filter_map(|a| cx.target(a)).collect();
                            format::read_order(&offered).into()
                        }
                        // Not a list of atoms: treat as an owner without TARGETS.
                        None => format::WITHOUT_TARGETS.into(),
                    }
                };
                if read.candidates.is_empty() {
                    return Err(ClipboardTransferError::Unsupported.into());
                }
                read.ask_next(cx, now)?;
                Ok(None)
            }
            Stage::Data(target) if ev.target == cx.atom(target) => {
                if ev.property == x11rb::NONE {
                    read.ask_next(cx, now)?;
                    return Ok(None);
                }
                let reply = cx
                    .conn
                    .get_property(true, cx.window, read.property, AtomEnum::ANY, 0, longs_for(cx.max_size))?
                    .reply()?;
                if reply.type_ == cx.atoms.INCR {
                    // The value is a lower bound of the size; reading it deleted the property,
                    // which tells the owner to send the first chunk.
                    let announced = reply.value32().and_then(|mut v| v.next()).unwrap_or(0);
                    let announced = usize::try_from(announced).unwrap_or(usize::MAX);
                    if announced > cx.max_size {
                        return Err(too_large(announced, 0, cx.max_size));
                    }
                    read.stage = Stage::Incr { target, data: Vec::with_capacity(announced) };
                    read.deadline = now + cx.peer_timeout;
                    return Ok(None);
                }
                if reply.type_ == x11rb::NONE {
                    // No such property after all: as good as a refusal.
                    read.ask_next(cx, now)?;
                    return Ok(None);
                }
                if reply.bytes_after > 0 || reply.value.len() > cx.max_size {
                    return Err(too_large(reply.value.len(), reply.bytes_after, cx.max_size));
                }
                let copy = format::decode(target, reply.format, reply.value)?;
                self.read = None;
                Ok(Some(copy))
            }
            _ => Ok(None),
        }
    }

    /// A property of our window changed: during INCR, the owner wrote the next chunk.
    pub(super) fn on_property_notify(
        &mut self,
        cx: &Ctx,
        ev: &PropertyNotifyEvent,
        now: Instant,
    ) -> Result<Option<ClipboardContent>, Failure> {
        let Some(read) = self.read.as_mut() else { return Ok(None) };
        let Stage::Incr { target, data } = &mut read.stage else { return Ok(None) };
        if ev.atom != read.property || ev.state != Property::NEW_VALUE {
            return Ok(None);
        }
        let room = cx.max_size - data.len();
        let reply = cx.conn.get_property(true, cx.window, read.property, AtomEnum::ANY, 0, longs_for(room))?.reply()?;
        if reply.type_ == x11rb::NONE {
            // Already read (a notification for a write we have seen).
            return Ok(None);
        }
        if reply.value.is_empty() {
            // The zero-length chunk: done.
            let (target, data) = (*target, std::mem::take(data));
            self.read = None;
            return Ok(Some(format::decode(target, 8, data)?));
        }
        if reply.format != 8 {
            return Err(ClipboardTransferError::Malformed(format!("INCR chunk in {}-bit units", reply.format)).into());
        }
        if reply.bytes_after > 0 || reply.value.len() > room {
            return Err(too_large(data.len() + reply.value.len(), reply.bytes_after, cx.max_size));
        }
        data.extend_from_slice(&reply.value);
        read.deadline = now + cx.peer_timeout;
        Ok(None)
    }
}

impl Read {
    /// Asks for the next offered target, or gives up when the owner refused them all.
    fn ask_next(&mut self, cx: &Ctx, now: Instant) -> Result<(), Failure> {
        let target = self.candidates.pop_front().ok_or(ClipboardTransferError::Refused)?;
        cx.conn.convert_selection(cx.window, cx.atoms.CLIPBOARD, cx.atom(target), self.property, self.time)?;
        self.stage = Stage::Data(target);
        self.deadline = now + cx.peer_timeout;
        Ok(())
    }
}

/// How many 32-bit units to ask for so that `bytes` and one more are read: one byte past the
/// room shows that the property is too large.
fn longs_for(bytes: usize) -> u32 {
    u32::try_from(bytes / 4 + 1).unwrap_or(u32::MAX)
}

/// A [`ClipboardTransferError::TooLarge`] for `read` bytes with `after` more in the property.
fn too_large(read: usize, after: u32, limit: usize) -> Failure {
    let size = u64::try_from(read).unwrap_or(u64::MAX).saturating_add(u64::from(after));
    ClipboardTransferError::TooLarge { size, limit }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_reads_ask_one_unit_more_than_the_room() {
        assert_eq!(longs_for(0), 1);
        assert_eq!(longs_for(3), 1);
        assert_eq!(longs_for(4), 2);
        assert_eq!(longs_for(16 << 20), (4 << 20) + 1);
    }

    #[test]
    fn too_large_counts_what_was_left() {
        let Failure::Transfer(ClipboardTransferError::TooLarge { size, limit }) = too_large(1000, 24, 1000) else {
            panic!("not TooLarge");
        };
        assert_eq!((size, limit), (1024, 1000));
    }
}
