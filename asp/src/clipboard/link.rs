//! One side's end of the clipboard channel, sans-IO: copies out become a `Begin` and chunks,
//! messages in are reassembled (within a size limit, checked against their claimed format)
//! and, on the server, held to its [`ClipboardPolicy`] whatever the client claims.

use std::collections::VecDeque;

use bytes::Bytes;

use super::{ClipboardContent, ClipboardFormat};
use crate::proto::clipboard::{ClipboardMessage, MAX_CHUNK, RefusalReason};

/// Which way copies may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ClipboardDirection {
    /// Neither way.
    None,
    /// From the client's clipboard to the server's only.
    ClientToServer,
    /// From the server's clipboard to the client's only.
    ServerToClient,
    /// Both ways.
    Both,
}

/// What the server lets through its clipboard, enforced on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipboardPolicy {
    /// Which way copies may go.
    pub direction: ClipboardDirection,
    /// The kinds of content allowed.
    pub formats: Vec<ClipboardFormat>,
    /// Largest copy, bytes.
    pub max_bytes: u64,
}

impl Default for ClipboardPolicy {
    fn default() -> Self {
        Self {
            direction: ClipboardDirection::Both,
            formats: vec![ClipboardFormat::Text, ClipboardFormat::Png, ClipboardFormat::Files],
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// The largest copy either side takes unless told otherwise: 16 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 16 << 20;
/// Most entries in a file list.
pub const MAX_FILES: usize = 4096;

impl ClipboardPolicy {
    /// Why `format` of `total` bytes may not go the way `to_server` says, if it may not.
    #[must_use]
    pub fn refuses(&self, to_server: bool, format: ClipboardFormat, total: u64) -> Option<RefusalReason> {
        let way = if to_server { ClipboardDirection::ClientToServer } else { ClipboardDirection::ServerToClient };
        if self.direction != ClipboardDirection::Both && self.direction != way {
            return Some(RefusalReason::Direction);
        }
        if !self.formats.contains(&format) {
            return Some(RefusalReason::Format);
        }
        (total > self.max_bytes).then_some(RefusalReason::TooLarge)
    }
}

/// Counters of one side's clipboard channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClipboardStats {
    /// Copies sent whole.
    pub sent: u64,
    /// Copies received whole and put on the local clipboard.
    pub received: u64,
    /// Copies this side refused (the server's policy, or malformed content).
    pub refused: u64,
    /// Copies the peer refused (reported by the server).
    pub refused_by_peer: u64,
    /// Local copies not sent because the server's policy forbids them.
    pub withheld: u64,
    /// Messages that did not parse.
    pub bad_messages: u64,
    /// The newest refusal, said plainly.
    pub last_refusal: Option<String>,
}

/// What came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Nothing complete yet.
    Nothing,
    /// A whole copy, for the local clipboard.
    Copy(ClipboardContent),
    /// A copy refused here: tell the peer (the server answers with this message).
    Refuse(Bytes),
}

#[derive(Debug)]
struct Arriving {
    id: u64,
    format: ClipboardFormat,
    total: u64,
    data: Vec<u8>,
}

/// One side's clipboard channel state.
#[derive(Debug)]
pub struct ClipboardLink {
    /// On the server: the policy to hold the client to. On the client: `None` (the client
    /// applies only its size limit).
    policy: Option<ClipboardPolicy>,
    max_bytes: u64,
    next_id: u64,
    outbox: VecDeque<Bytes>,
    arriving: Option<Arriving>,
    /// Ids of refused copies whose chunks are still coming: skipped quietly.
    skipping: Option<u64>,
    stats: ClipboardStats,
}

fn refusal_text(reason: RefusalReason) -> &'static str {
    match reason {
        RefusalReason::Direction => "the server's clipboard policy does not allow copies this way",
        RefusalReason::Format => "the server's clipboard policy does not allow this kind of content",
        RefusalReason::TooLarge => "the copy is larger than the clipboard policy allows",
        RefusalReason::Malformed => "the copy is not what it claims to be",
    }
}

impl ClipboardLink {
    /// The server's end, holding the client to `policy`.
    #[must_use]
    pub fn server(policy: ClipboardPolicy) -> Self {
        let max_bytes = policy.max_bytes;
        Self::new(Some(policy), max_bytes)
    }

    /// The client's end, taking copies of at most `max_bytes`.
    #[must_use]
    pub fn client(max_bytes: u64) -> Self {
        Self::new(None, max_bytes)
    }

    fn new(policy: Option<ClipboardPolicy>, max_bytes: u64) -> Self {
        Self {
            policy,
            max_bytes,
            next_id: 1,
            outbox: VecDeque::new(),
            arriving: None,
            skipping: None,
            stats: ClipboardStats::default(),
        }
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> &ClipboardStats {
        &self.stats
    }

    fn refused(&mut self, reason: RefusalReason) {
        self.stats.refused += 1;
        self.stats.last_refusal = Some(refusal_text(reason).to_owned());
    }

    /// Queues a local copy for the peer. On the server, a copy the policy keeps from the
    /// client is withheld (and counted) instead.
    pub fn send(&mut self, content: &ClipboardContent) {
        let bytes = encode_content(content);
        let format = content.format();
        if let Some(reason) = self.policy.as_ref().and_then(|p| p.refuses(false, format, bytes.len() as u64)) {
            self.stats.withheld += 1;
            self.stats.last_refusal = Some(refusal_text(reason).to_owned());
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        // A newer copy makes the rest of an older one pointless.
        self.outbox.clear();
        let begin = ClipboardMessage::Begin { id, format: format.into(), total: bytes.len() as u64 };
        self.outbox.extend(begin.encode().ok().map(Bytes::from));
        for chunk in bytes.chunks(MAX_CHUNK) {
            let message = ClipboardMessage::Chunk { id, data: chunk.to_vec() };
            self.outbox.extend(message.encode().ok().map(Bytes::from));
        }
        self.stats.sent += 1;
    }

    /// The next message to send, if any (leave it queued until [`sent`](Self::sent)).
    #[must_use]
    pub fn next_message(&self) -> Option<Bytes> {
        self.outbox.front().cloned()
    }

    /// The message [`next_message`](Self::next_message) gave was taken by the channel.
    pub fn sent(&mut self) {
        self.outbox.pop_front();
    }

    /// One message from the peer.
    pub fn on_message(&mut self, data: &[u8]) -> Inbound {
        let message = match ClipboardMessage::decode(data) {
            Ok(m) => m,
            Err(_) => {
                self.stats.bad_messages += 1;
                return Inbound::Nothing;
            }
        };
        match message {
            ClipboardMessage::Begin { id, format, total } => {
                self.arriving = None;
                self.skipping = None;
                let format = ClipboardFormat::from(format);
                let refusal = match &self.policy {
                    Some(policy) => policy.refuses(true, format, total),
                    None => (total > self.max_bytes).then_some(RefusalReason::TooLarge),
                };
                if let Some(reason) = refusal {
                    return self.refuse(id, reason);
                }
                // Grown as chunks come, never from the peer's claim alone.
                self.arriving = Some(Arriving { id, format, total, data: Vec::new() });
                self.complete()
            }
            ClipboardMessage::Chunk { id, data } => {
                if self.skipping == Some(id) {
                    return Inbound::Nothing;
                }
                let Some(arriving) = self.arriving.as_mut().filter(|a| a.id == id) else {
                    self.stats.bad_messages += 1;
                    return Inbound::Nothing;
                };
                if arriving.data.len() as u64 + data.len() as u64 > arriving.total {
                    self.arriving = None;
                    return self.refuse(id, RefusalReason::Malformed);
                }
                arriving.data.extend_from_slice(&data);
                self.complete()
            }
            ClipboardMessage::Refused { reason, .. } => {
                self.stats.refused_by_peer += 1;
                self.stats.last_refusal = Some(refusal_text(reason).to_owned());
                Inbound::Nothing
            }
        }
    }

    fn refuse(&mut self, id: u64, reason: RefusalReason) -> Inbound {
        self.refused(reason);
        self.skipping = Some(id);
        match self.policy {
            Some(_) => ClipboardMessage::Refused { id, reason }
                .encode()
                .map_or(Inbound::Nothing, |b| Inbound::Refuse(b.into())),
            None => Inbound::Nothing,
        }
    }

    fn complete(&mut self) -> Inbound {
        let done = self.arriving.as_ref().is_some_and(|a| a.data.len() as u64 == a.total);
        if !done {
            return Inbound::Nothing;
        }
        let Some(Arriving { id, format, data, .. }) = self.arriving.take() else { return Inbound::Nothing };
        match decode_content(format, data) {
            Some(content) => {
                self.stats.received += 1;
                Inbound::Copy(content)
            }
            None => self.refuse(id, RefusalReason::Malformed),
        }
    }
}

/// The bytes a copy travels as.
fn encode_content(content: &ClipboardContent) -> Vec<u8> {
    match content {
        ClipboardContent::Text(t) => t.as_bytes().to_vec(),
        ClipboardContent::Png(p) => p.clone(),
        ClipboardContent::Files(f) => f.iter().flat_map(|u| [u.as_bytes(), b"\r\n"].concat()).collect(),
    }
}

/// PNG files start with these eight bytes.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// The copy, if the bytes are what the format claims.
fn decode_content(format: ClipboardFormat, data: Vec<u8>) -> Option<ClipboardContent> {
    match format {
        ClipboardFormat::Text => String::from_utf8(data).ok().map(ClipboardContent::Text),
        ClipboardFormat::Png => data.starts_with(&PNG_SIGNATURE).then_some(ClipboardContent::Png(data)),
        ClipboardFormat::Files => {
            let text = String::from_utf8(data).ok()?;
            let files: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
            let uri = |u: &String| u.split_once(':').is_some_and(|(scheme, _)| !scheme.is_empty());
            (files.len() <= MAX_FILES && files.iter().all(uri)).then_some(ClipboardContent::Files(files))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Carries everything queued on `from` to `to`; returns what `to` made of it.
    fn carry(from: &mut ClipboardLink, to: &mut ClipboardLink) -> Vec<Inbound> {
        let mut out = Vec::new();
        while let Some(m) = from.next_message() {
            from.sent();
            out.push(to.on_message(&m));
        }
        out.retain(|i| *i != Inbound::Nothing);
        out
    }

    fn png(len: usize) -> Vec<u8> {
        let mut p = PNG_SIGNATURE.to_vec();
        p.resize(len, 7);
        p
    }

    #[test]
    fn copies_cross_whole_in_chunks() {
        let mut client = ClipboardLink::client(DEFAULT_MAX_BYTES);
        let mut server = ClipboardLink::server(ClipboardPolicy::default());
        for content in [
            ClipboardContent::Text("héllo".into()),
            ClipboardContent::Png(png(3 * MAX_CHUNK + 5)),
            ClipboardContent::Files(vec!["file:///tmp/a.txt".into(), "file:///tmp/b%20c.png".into()]),
        ] {
            client.send(&content);
            assert_eq!(carry(&mut client, &mut server), [Inbound::Copy(content.clone())]);
            server.send(&content);
            assert_eq!(carry(&mut server, &mut client), [Inbound::Copy(content)]);
        }
        assert_eq!((client.stats().sent, server.stats().received), (3, 3));
    }

    #[test]
    fn the_server_holds_the_client_to_its_policy() {
        let policy = ClipboardPolicy {
            direction: ClipboardDirection::ServerToClient,
            formats: vec![ClipboardFormat::Text],
            max_bytes: 100,
        };
        let mut server = ClipboardLink::server(policy.clone());
        let mut client = ClipboardLink::client(DEFAULT_MAX_BYTES);
        client.send(&ClipboardContent::Text("to the server".into()));
        let answers = carry(&mut client, &mut server);
        let [Inbound::Refuse(refusal)] = answers.as_slice() else { panic!("{answers:?}") };
        assert_eq!(client.on_message(refusal), Inbound::Nothing);
        assert_eq!(client.stats().refused_by_peer, 1);
        assert!(client.stats().last_refusal.as_deref().unwrap().contains("does not allow copies this way"));
        // Server to client: text within the limit goes; an image or a long text is withheld.
        server.send(&ClipboardContent::Png(png(50)));
        server.send(&ClipboardContent::Text("x".repeat(101)));
        assert!(server.next_message().is_none());
        server.send(&ClipboardContent::Text("ok".into()));
        assert_eq!(carry(&mut server, &mut client), [Inbound::Copy(ClipboardContent::Text("ok".into()))]);
        assert_eq!((server.stats().refused, server.stats().withheld), (1, 2));

        // A client that claims a small size and sends more is refused, whatever it claimed.
        let mut server = ClipboardLink::server(ClipboardPolicy::default());
        let begin = ClipboardMessage::Begin { id: 4, format: crate::proto::clipboard::WireFormat::Text, total: 3 };
        assert_eq!(server.on_message(&begin.encode().unwrap()), Inbound::Nothing);
        let chunk = ClipboardMessage::Chunk { id: 4, data: b"four".to_vec() };
        assert!(matches!(server.on_message(&chunk.encode().unwrap()), Inbound::Refuse(_)));
        // And one whose "image" is not a PNG.
        let begin = ClipboardMessage::Begin { id: 5, format: crate::proto::clipboard::WireFormat::Png, total: 4 };
        server.on_message(&begin.encode().unwrap());
        let chunk = ClipboardMessage::Chunk { id: 5, data: b"GIF8".to_vec() };
        assert!(matches!(server.on_message(&chunk.encode().unwrap()), Inbound::Refuse(_)));
        assert_eq!(server.stats().refused, 2);
    }

    #[test]
    fn a_newer_copy_supersedes_and_strays_are_counted() {
        let mut client = ClipboardLink::client(DEFAULT_MAX_BYTES);
        client.send(&ClipboardContent::Text("old".into()));
        client.send(&ClipboardContent::Text("new".into()));
        let mut server = ClipboardLink::server(ClipboardPolicy::default());
        assert_eq!(carry(&mut client, &mut server), [Inbound::Copy(ClipboardContent::Text("new".into()))]);
        let stray = ClipboardMessage::Chunk { id: 99, data: vec![1] };
        assert_eq!(server.on_message(&stray.encode().unwrap()), Inbound::Nothing);
        assert_eq!(server.on_message(&[0xff]), Inbound::Nothing);
        assert_eq!(server.stats().bad_messages, 2);
    }
}
