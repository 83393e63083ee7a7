//! How the baselines cut frames into chunks, and how the receiver tells when a frame is
//! complete.
//!
//! A chunk is a 12-byte header, big endian: frame index (u32), offset of the chunk's bytes in
//! the frame (u32), frame length (u32); then the bytes. Every chunk but a frame's last carries
//! [`CHUNK_PAYLOAD`] bytes, so on a byte stream (TCP) the header alone says how long the chunk
//! is; a datagram (SRT) fits one SRT live payload ([`MAX_CHUNK`] bytes). Frame index
//! [`PROBE`] with length 0 is a probe, sent before the frames to see that the path is up.

use bytes::{BufMut, Bytes, BytesMut};

/// Header bytes.
pub(crate) const HEADER: usize = 12;
/// Largest chunk, header included: the SRT live mode payload.
pub(crate) const MAX_CHUNK: usize = 1316;
/// Frame bytes per chunk.
pub(crate) const CHUNK_PAYLOAD: usize = MAX_CHUNK - HEADER;
/// The frame index of a probe.
pub(crate) const PROBE: u32 = u32::MAX;

/// A parsed chunk header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) frame: u32,
    pub(crate) offset: u32,
    pub(crate) frame_len: u32,
}

impl Header {
    pub(crate) fn parse(bytes: &[u8]) -> Option<Header> {
        let word = |i: usize| Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
        Some(Header { frame: word(0)?, offset: word(4)?, frame_len: word(8)? })
    }

    /// The chunk's payload length under the chunking rule, if the header is consistent.
    pub(crate) fn payload_len(&self) -> Option<usize> {
        let (offset, len) = (self.offset as usize, self.frame_len as usize);
        (offset <= len && offset % CHUNK_PAYLOAD == 0).then(|| (len - offset).min(CHUNK_PAYLOAD))
    }
}

/// The probe chunk.
pub(crate) fn probe() -> Bytes {
    let mut b = BytesMut::with_capacity(HEADER);
    b.put_u32(PROBE);
    b.put_u32(0);
    b.put_u32(0);
    b.freeze()
}

/// Frame `index`'s chunks, header included.
pub(crate) fn chunks(index: u32, frame: &[u8]) -> impl Iterator<Item = Bytes> + '_ {
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    frame.chunks(CHUNK_PAYLOAD).enumerate().map(move |(i, part)| {
        let mut b = BytesMut::with_capacity(HEADER + part.len());
        b.put_u32(index);
        b.put_u32(u32::try_from(i * CHUNK_PAYLOAD).unwrap_or(u32::MAX));
        b.put_u32(len);
        b.put_slice(part);
        b.freeze()
    })
}

/// What a received chunk was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// A probe.
    Probe,
    /// A chunk that completed its frame.
    Completed(usize),
    /// A chunk of a frame still incomplete, or a duplicate.
    Partial,
    /// Not a chunk of the frames sent: bad header, unknown frame, wrong length or contents.
    Bad,
}

/// Reassembly state at the receiver, checked against the frames that were sent (so memory is
/// bounded by them, and corrupted chunks are counted rather than trusted).
#[derive(Debug)]
pub(crate) struct Collector<'a> {
    frames: &'a [Bytes],
    /// Per frame: which chunks arrived.
    got: Vec<Vec<bool>>,
    /// Per frame: chunks still missing.
    missing: Vec<usize>,
    pub(crate) bad: u64,
    pub(crate) completed: usize,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(frames: &'a [Bytes]) -> Self {
        let counts: Vec<usize> = frames.iter().map(|f| f.len().div_ceil(CHUNK_PAYLOAD)).collect();
        Collector {
            frames,
            got: counts.iter().map(|&n| vec![false; n]).collect(),
            missing: counts,
            bad: 0,
            completed: 0,
        }
    }

    /// Whether every frame is complete.
    pub(crate) fn done(&self) -> bool {
        self.completed == self.frames.len()
    }

    /// Takes one chunk, header included.
    pub(crate) fn on_chunk(&mut self, chunk: &[u8]) -> Received {
        let r = self.classify(chunk);
        if r == Received::Bad {
            self.bad += 1;
        }
        r
    }

    fn classify(&mut self, chunk: &[u8]) -> Received {
        let Some(h) = Header::parse(chunk) else { return Received::Bad };
        if h.frame == PROBE && h.frame_len == 0 {
            return Received::Probe;
        }
        let payload = &chunk[HEADER..];
        let k = h.frame as usize;
        let Some(frame) = self.frames.get(k) else { return Received::Bad };
        let (offset, len) = (h.offset as usize, h.frame_len as usize);
        if len != frame.len()
            || h.payload_len() != Some(payload.len())
            || frame.get(offset..offset + payload.len()) != Some(payload)
        {
            return Received::Bad;
        }
        let Some(seen) = self.got[k].get_mut(offset / CHUNK_PAYLOAD) else { return Received::Bad };
        if *seen {
            return Received::Partial;
        }
        *seen = true;
        self.missing[k] -= 1;
        if self.missing[k] == 0 {
            self.completed += 1;
            Received::Completed(k)
        } else {
            Received::Partial
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<Bytes> {
        vec![Bytes::from(vec![1u8; 3000]), Bytes::from(vec![2u8; 10]), Bytes::from(vec![3u8; CHUNK_PAYLOAD])]
    }

    #[test]
    fn chunks_fit_srt_payload_and_round_trip() {
        let frames = frames();
        let mut c = Collector::new(&frames);
        let all: Vec<Vec<Bytes>> = frames.iter().enumerate().map(|(k, f)| chunks(k as u32, f).collect()).collect();
        assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1, 1]);
        assert!(all.iter().flatten().all(|c| c.len() <= MAX_CHUNK));
        // Out of order and duplicated: frame 0 completes on its last missing chunk only.
        assert_eq!(c.on_chunk(&all[0][2]), Received::Partial);
        assert_eq!(c.on_chunk(&all[0][0]), Received::Partial);
        assert_eq!(c.on_chunk(&all[0][0]), Received::Partial);
        assert_eq!(c.on_chunk(&all[1][0]), Received::Completed(1));
        assert_eq!(c.on_chunk(&all[0][1]), Received::Completed(0));
        assert_eq!(c.on_chunk(&probe()), Received::Probe);
        assert!(!c.done());
        assert_eq!(c.on_chunk(&all[2][0]), Received::Completed(2));
        assert!(c.done());
        assert_eq!(c.bad, 0);
    }

    #[test]
    fn bad_chunks_are_counted_not_trusted() {
        let frames = frames();
        let mut c = Collector::new(&frames);
        let good: Vec<Bytes> = chunks(0, &frames[0]).collect();
        let mut flipped = good[1].to_vec();
        flipped[HEADER + 5] ^= 1;
        let mut wrong_len = good[1].to_vec();
        wrong_len[11] = 7;
        let unknown: Vec<Bytes> = chunks(9, &frames[1]).collect();
        for bad in [&flipped[..], &wrong_len[..], &unknown[0][..], &good[1][..HEADER + 3], &[1, 2, 3][..]] {
            assert_eq!(c.on_chunk(bad), Received::Bad);
        }
        assert_eq!(c.bad, 5);
        assert_eq!(c.completed, 0);
    }
}
