//! [`VideoDecoder`] over FFmpeg's decoders: `h264`, `hevc` and `libdav1d` (AV1).

use std::collections::VecDeque;

use ffmpeg_next::codec::{self, threading};
use ffmpeg_next::util::frame::Video as AvFrame;
use ffmpeg_next::{Packet, decoder};

use super::frames::copy_from_frame;
use crate::frame::{EncodedVideo, VideoFrame};
use crate::video::{DecodeError, OpenError, VideoCodec, VideoDecoder};

/// An FFmpeg video decoder that returns each picture as soon as its packet is in.
pub struct FfmpegVideoDecoder {
    dec: decoder::Video,
    codec: VideoCodec,
    name: &'static str,
    /// (pts, frame id) of packets sent whose pictures have not come out yet.
    in_flight: VecDeque<(i64, u64)>,
    ready: VecDeque<VideoFrame>,
    frame: AvFrame,
}

impl std::fmt::Debug for FfmpegVideoDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfmpegVideoDecoder")
            .field("codec", &self.codec)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// FFmpeg's software decoder for each codec. AV1 goes through libdav1d: FFmpeg 5.1's own
/// `av1` decoder only drives hardware.
fn software_name(codec: VideoCodec) -> &'static str {
    match codec {
        VideoCodec::H264 => "h264",
        VideoCodec::Hevc => "hevc",
        VideoCodec::Av1 => "libdav1d",
    }
}

impl FfmpegVideoDecoder {
    /// Opens the software decoder for `codec`.
    ///
    /// # Errors
    ///
    /// [`OpenError::NotAvailable`] if this FFmpeg lacks the decoder, [`OpenError::Ffmpeg`] if
    /// it fails to open.
    pub fn open(codec: VideoCodec) -> Result<Self, OpenError> {
        Self::open_named(codec, software_name(codec))
    }

    /// Opens FFmpeg's decoder `name` (for example `h264_cuvid` for NVDEC) for `codec`.
    ///
    /// # Errors
    ///
    /// As [`FfmpegVideoDecoder::open`].
    pub fn open_named(codec: VideoCodec, name: &'static str) -> Result<Self, OpenError> {
        super::init();
        let found = decoder::find_by_name(name).ok_or_else(|| OpenError::NotAvailable(name.into()))?;
        let ffmpeg_err = |source| OpenError::Ffmpeg { name: name.into(), source };
        let mut ctx = codec::context::Context::new_with_codec(found);
        // Low delay: output each picture as soon as it is decoded (dav1d: max_frame_delay 1).
        ctx.set_flags(codec::Flags::LOW_DELAY);
        // Slice threads only: frame threads would hold each picture back by a frame per thread.
        ctx.set_threading(threading::Config { kind: threading::Type::Slice, count: 0, ..Default::default() });
        // dav1d's frame threads each hold a picture back; one frame of delay at most.
        let mut options = ffmpeg_next::Dictionary::new();
        if name == "libdav1d" {
            options.set("max_frame_delay", "1");
        }
        let dec =
            ctx.decoder().open_as_with(found, options).and_then(codec::decoder::Opened::video).map_err(ffmpeg_err)?;
        Ok(Self { dec, codec, name, in_flight: VecDeque::new(), ready: VecDeque::new(), frame: AvFrame::empty() })
    }

    fn drain(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.dec.receive_frame(&mut self.frame) {
                Ok(()) => {
                    let image = copy_from_frame(&self.frame)
                        .ok_or_else(|| DecodeError::UnsupportedPixelFormat(format!("{:?}", self.frame.format())))?;
                    let pts = self.frame.pts().unwrap_or_default();
                    let mut frame_id = 0;
                    while let Some((p, id)) = self.in_flight.pop_front() {
                        if p == pts {
                            frame_id = id;
                            break;
                        }
                    }
                    self.ready.push_back(VideoFrame { image, pts_us: pts, frame_id });
                }
                Err(ffmpeg_next::Error::Eof) => return Ok(()),
                Err(ffmpeg_next::Error::Other { errno: ffmpeg_next::util::error::EAGAIN }) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl VideoDecoder for FfmpegVideoDecoder {
    fn decode(&mut self, packet: &EncodedVideo) -> Result<Option<VideoFrame>, DecodeError> {
        if packet.codec != self.codec {
            return Err(DecodeError::CodecMismatch { expected: self.codec, actual: packet.codec });
        }
        let mut p = Packet::copy(&packet.data);
        p.set_pts(Some(packet.pts_us));
        self.in_flight.push_back((packet.pts_us, packet.frame_id));
        // A bounded queue: pictures a broken stream never returns must not pile up.
        while self.in_flight.len() > 64 {
            self.in_flight.pop_front();
        }
        self.dec.send_packet(&p)?;
        self.drain()?;
        Ok(self.ready.pop_front())
    }

    fn flush(&mut self) -> Result<Vec<VideoFrame>, DecodeError> {
        match self.dec.send_eof() {
            Ok(()) | Err(ffmpeg_next::Error::Eof) => {}
            Err(e) => return Err(e.into()),
        }
        self.drain()?;
        Ok(self.ready.drain(..).collect())
    }
}
