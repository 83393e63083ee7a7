//! A one-slot mailbox between threads: a new item replaces the one not yet taken. This is how
//! the capture thread hands pictures to the encoder: when the encoder falls behind, the oldest
//! picture is dropped, never queued.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

#[derive(Debug)]
struct Slot<T> {
    item: Option<T>,
    closed: bool,
}

/// The mailbox, shared by reference (put it in an `Arc`).
#[derive(Debug)]
pub struct Mailbox<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
}

impl<T> Default for Mailbox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Mailbox<T> {
    /// An empty, open mailbox.
    #[must_use]
    pub fn new() -> Self {
        Self { slot: Mutex::new(Slot { item: None, closed: false }), ready: Condvar::new() }
    }

    /// Leaves `item`; returns true when it replaced one that was never taken.
    pub fn put(&self, item: T) -> bool {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let replaced = slot.item.replace(item).is_some();
        self.ready.notify_one();
        replaced
    }

    /// Waits up to `timeout` for an item. `None` on timeout or once closed and empty.
    pub fn take(&self, timeout: Duration) -> Option<T> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut slot, _) = self
            .ready
            .wait_timeout_while(slot, timeout, |s| s.item.is_none() && !s.closed)
            .unwrap_or_else(PoisonError::into_inner);
        slot.item.take()
    }

    /// Closes the mailbox: waiting takers wake up.
    pub fn close(&self) {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        self.ready.notify_all();
    }

    /// Whether [`close`](Self::close) was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner).closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn newest_wins_and_close_wakes_the_taker() {
        let m = Mailbox::new();
        assert!(!m.put(1));
        assert!(m.put(2));
        assert_eq!(m.take(Duration::ZERO), Some(2));
        assert_eq!(m.take(Duration::from_millis(1)), None);
        let m = Arc::new(Mailbox::<u32>::new());
        let waiter = {
            let m = m.clone();
            std::thread::spawn(move || m.take(Duration::from_secs(30)))
        };
        m.close();
        assert_eq!(waiter.join().unwrap(), None);
        assert!(m.is_closed());
    }
}
