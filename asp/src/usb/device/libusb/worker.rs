//! Reading an IN endpoint without blocking the host.
//!
//! libusb's synchronous reads block until the device sends, which may be never (a keyboard
//! nobody types on). [`DeviceHost`](crate::usb::device::DeviceHost) asks instead, again and
//! again, whether data is ready. An [`InWorker`] sits between the two: a thread per IN
//! endpoint does the blocking reads, each with a timeout so that it notices when to stop, and
//! leaves what completes in a bounded queue that [`InWorker::take`] empties.
//!
//! A bulk endpoint is read on request only ([`Mode::OnRequest`]): a bulk transfer ends where
//! the guest's request ends (a full request, or a short packet), so reading ahead with a
//! length of our own would merge two of the device's answers. An interrupt endpoint is read
//! continuously ([`Mode::Continuous`]), a report at a time, while the queue has room; when it
//! is full the worker stops reading and the device keeps its reports.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::usb::device::Stall;

/// The most completed reads an endpoint holds before the guest takes them.
pub(super) const MAX_QUEUED: usize = 16;

/// How long one read waits for the device before the worker looks whether it should stop.
/// A transfer the device was still filling when it timed out comes back short (libusb
/// returns what arrived), so this is long next to a transfer and short next to a human.
pub(super) const READ_TIMEOUT: Duration = Duration::from_millis(250);

/// The kind of IN endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bulk,
    Interrupt,
}

/// One blocking read of an IN endpoint: what a worker needs from the device.
pub(super) trait InTransfer: Send + Sync + 'static {
    /// Reads at most `buf.len()` bytes from `endpoint`, waiting at most `timeout`.
    fn read(&self, endpoint: u8, kind: Kind, buf: &mut [u8], timeout: Duration) -> Result<usize, rusb::Error>;
}

impl<C: rusb::UsbContext + 'static> InTransfer for rusb::DeviceHandle<C> {
    fn read(&self, endpoint: u8, kind: Kind, buf: &mut [u8], timeout: Duration) -> Result<usize, rusb::Error> {
        match kind {
            Kind::Bulk => self.read_bulk(endpoint, buf, timeout),
            Kind::Interrupt => self.read_interrupt(endpoint, buf, timeout),
        }
    }
}

/// When a worker reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// One read of the length [`InWorker::take`] asked for, once the one before was taken.
    OnRequest,
    /// Reads of this length whenever the queue has room.
    Continuous(usize),
}

/// What the worker thread and [`InWorker`] share.
#[derive(Debug, Default)]
struct State {
    /// A read asked for and not started ([`Mode::OnRequest`]).
    wanted: Option<usize>,
    /// A read is under way.
    reading: bool,
    /// Completed reads, oldest first: the data, or a stall.
    done: VecDeque<Result<Vec<u8>, Stall>>,
    /// A read failed: no more reads until the guest clears the halt.
    halted: bool,
    /// The worker is to end.
    stop: bool,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One IN endpoint's reading thread and its queue; the thread ends when this is dropped.
#[derive(Debug)]
pub(super) struct InWorker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl InWorker {
    /// Starts reading `endpoint` through `reader`.
    ///
    /// # Errors
    /// The thread could not be started.
    pub(super) fn spawn<R: InTransfer>(
        reader: Arc<R>,
        endpoint: u8,
        kind: Kind,
        mode: Mode,
        timeout: Duration,
    ) -> std::io::Result<InWorker> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new().name(format!("usb-in-{endpoint:02x}")).spawn({
            let shared = shared.clone();
            move || run(&shared, &*reader, endpoint, kind, mode, timeout)
        })?;
        Ok(InWorker { shared, thread: Some(thread) })
    }

    /// The oldest completed read, at most `max_len` bytes of it (the rest stays for the next
    /// call); a stall while the endpoint is halted; `None` while nothing has completed, after
    /// asking for a read of `max_len` bytes if the worker reads on request and has none under
    /// way.
    pub(super) fn take(&self, max_len: usize) -> Option<Result<Vec<u8>, Stall>> {
        let mut state = self.shared.lock();
        match state.done.pop_front() {
            Some(Ok(mut data)) if data.len() > max_len => {
                let rest = data.split_off(max_len);
                state.done.push_front(Ok(rest));
                Some(Ok(data))
            }
            Some(result) => {
                // Room in the queue again.
                self.shared.wake.notify_all();
                Some(result)
            }
            None if state.halted => Some(Err(Stall)),
            None => {
                if !state.reading && state.wanted.is_none() {
                    state.wanted = Some(max_len);
                    self.shared.wake.notify_all();
                }
                None
            }
        }
    }

    /// The guest cleared the endpoint's halt: reading may go on.
    pub(super) fn clear_halt(&self) {
        self.shared.lock().halted = false;
        self.shared.wake.notify_all();
    }

    /// How many completed reads wait.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.shared.lock().done.len()
    }
}

impl Drop for InWorker {
    /// Stops the thread and waits for it: at most one read timeout.
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread does not panic; if it did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}

/// The worker thread: waits for a read to do, does it, queues the outcome.
fn run(shared: &Shared, reader: &dyn InTransfer, endpoint: u8, kind: Kind, mode: Mode, timeout: Duration) {
    let mut buf = Vec::new();
    loop {
        let len = {
            let mut state = shared.lock();
            loop {
                if state.stop {
                    return;
                }
                if !state.halted && state.done.len() < MAX_QUEUED {
                    let len = match mode {
                        Mode::OnRequest => state.wanted.take(),
                        Mode::Continuous(len) => Some(len),
                    };
                    if let Some(len) = len {
                        state.reading = true;
                        break len;
                    }
                }
                state = shared.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
        };
        buf.resize(len, 0);
        // A timeout is no data yet: the same read again, unless told to stop.
        let result = loop {
            match reader.read(endpoint, kind, &mut buf, timeout) {
                Err(rusb::Error::Timeout | rusb::Error::Interrupted) if !shared.lock().stop => continue,
                Err(rusb::Error::Timeout | rusb::Error::Interrupted) => return,
                other => break other,
            }
        };
        let mut state = shared.lock();
        state.reading = false;
        match result {
            Ok(n) => state.done.push_back(Ok(buf[..n.min(len)].to_vec())),
            // A halted endpoint, a gone device, a babble: the guest sees a stall and clears
            // it before reading again.
            Err(_) => {
                state.done.push_back(Err(Stall));
                state.halted = true;
            }
        }
    }
}
