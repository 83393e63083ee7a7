//! YUV4MPEG2 (`.y4m`) files: a streaming reader and writer of 8-bit 4:2:0 and 4:4:4 pictures.
//!
//! Y4M is a text header line, then per picture a `FRAME` line and the raw planes (Y, U, V, tightly
//! packed). It is what the FFmpeg CLI, libvmaf's `vmaf` tool and most video-quality tools read, so
//! benches write their reference and decoded pictures in it.
//!
//! Colour spaces `C420jpeg`, `C420paldv`, `C420mpeg2` and `C420` all read as [`YuvFormat::I420`]
//! (they differ only in chroma siting, which this crate does not track) and `C444` as
//! [`YuvFormat::I444`]. A header without `C` is 4:2:0, as the format defines; one without `F` is
//! 25:1, as FFmpeg assumes. Interlacing (`I`), aspect (`A`) and extension (`X`) tokens are ignored.
//! The reader is bounded: header lines are at most [`MAX_LINE`] bytes and pictures at most
//! [`MAX_DIMENSION`] on a side, so a hostile file costs at most one picture's worth of memory.
//!
//! ```
//! use asp_codec::y4m::{Y4mReader, Y4mWriter};
//! use asp_codec::{YuvFormat, YuvImage};
//!
//! let mut file = Vec::new();
//! let mut writer = Y4mWriter::new(&mut file, 64, 48, 30, 1, YuvFormat::I420)?;
//! writer.write(&YuvImage::black(YuvFormat::I420, 64, 48))?;
//! drop(writer);
//!
//! let mut reader = Y4mReader::new(file.as_slice())?;
//! assert_eq!((reader.header().width, reader.header().fps_num), (64, 30));
//! while let Some(picture) = reader.next_frame()? {
//!     assert_eq!(picture.format, YuvFormat::I420);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};

use crate::frame::{YuvFormat, YuvImage};

/// Longest header or frame-header line accepted, newline included.
pub const MAX_LINE: usize = 1024;
/// Largest width or height accepted.
pub const MAX_DIMENSION: u32 = 16384;

const MAGIC: &str = "YUV4MPEG2";
const FRAME: &str = "FRAME";

/// What a file's stream header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame rate numerator.
    pub fps_num: u32,
    /// Frame rate denominator.
    pub fps_den: u32,
    /// Plane layout: [`YuvFormat::I420`] or [`YuvFormat::I444`].
    pub format: YuvFormat,
}

impl Y4mHeader {
    /// Bytes of one picture's planes.
    #[must_use]
    pub fn frame_bytes(&self) -> usize {
        (0..self.format.plane_count())
            .map(|i| {
                let (w, h) = self.format.plane_size(i, self.width, self.height);
                w as usize * h as usize
            })
            .sum()
    }
}

/// Why a Y4M file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Y4mError {
    /// The stream does not start with `YUV4MPEG2 `.
    #[error("not a YUV4MPEG2 stream")]
    NotY4m,
    /// A header line is longer than [`MAX_LINE`] bytes.
    #[error("header line longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// A header token could not be parsed, or `W` / `H` is missing.
    #[error("bad header: {0}")]
    BadHeader(String),
    /// The size is zero or above [`MAX_DIMENSION`].
    #[error("picture size {width}x{height} outside 1..={MAX_DIMENSION}")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// A colour space other than 8-bit 4:2:0 or 4:4:4.
    #[error("unsupported colour space C{0}")]
    UnsupportedColourSpace(String),
    /// A picture does not start with a `FRAME` line.
    #[error("expected a FRAME line")]
    BadFrameHeader,
    /// The stream ends inside a header or a picture.
    #[error("truncated stream")]
    Truncated,
    /// The underlying reader failed.
    #[error(transparent)]
    Io(io::Error),
}

impl From<io::Error> for Y4mError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof { Self::Truncated } else { Self::Io(e) }
    }
}

/// Reads pictures from a Y4M stream, one at a time.
///
/// The reader reads header lines byte by byte; give it a [`std::io::BufReader`] if the
/// underlying reader makes each read a system call.
#[derive(Debug)]
pub struct Y4mReader<R> {
    inner: R,
    header: Y4mHeader,
}

impl<R: Read> Y4mReader<R> {
    /// Reads and parses the stream header.
    ///
    /// # Errors
    ///
    /// [`Y4mError`] if the header is missing, malformed, too long, describes an unsupported
    /// layout or size, or the reader fails.
    pub fn new(mut inner: R) -> Result<Self, Y4mError> {
        let line = match read_line(&mut inner)? {
            Some(line) => line,
            None => return Err(Y4mError::NotY4m),
        };
        let header = parse_header(&line)?;
        Ok(Self { inner, header })
    }

    /// The stream header.
    #[must_use]
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// The next picture, or `None` at the end of the stream.
    ///
    /// # Errors
    ///
    /// [`Y4mError::BadFrameHeader`] or [`Y4mError::LineTooLong`] on a malformed `FRAME` line,
    /// [`Y4mError::Truncated`] if the stream ends inside a picture, [`Y4mError::Io`] if the
    /// reader fails.
    pub fn next_frame(&mut self) -> Result<Option<YuvImage>, Y4mError> {
        let line = match read_line(&mut self.inner)? {
            Some(line) => line,
            None => return Ok(None),
        };
        let rest = line.strip_prefix(FRAME.as_bytes()).ok_or(Y4mError::BadFrameHeader)?;
        if !(rest.is_empty() || rest[0] == b' ') {
            return Err(Y4mError::BadFrameHeader);
        }
        let Y4mHeader { width, height, format, .. } = self.header;
        let mut planes = Vec::with_capacity(format.plane_count());
        for i in 0..format.plane_count() {
            let (w, h) = format.plane_size(i, width, height);
            let mut plane = vec![0; w as usize * h as usize];
            self.inner.read_exact(&mut plane)?;
            planes.push(plane);
        }
        Ok(Some(YuvImage { format, width, height, planes }))
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// Reads one line without its `\n`. `Ok(None)` if the stream ends before its first byte.
fn read_line(r: &mut impl Read) -> Result<Option<Vec<u8>>, Y4mError> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(0) if line.is_empty() => return Ok(None),
            Ok(0) => return Err(Y4mError::Truncated),
            Ok(_) if byte[0] == b'\n' => return Ok(Some(line)),
            Ok(_) if line.len() + 1 >= MAX_LINE => return Err(Y4mError::LineTooLong),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn parse_header(line: &[u8]) -> Result<Y4mHeader, Y4mError> {
    let mut tokens = line.split(|&b| b == b' ').filter(|t| !t.is_empty());
    if tokens.next() != Some(MAGIC.as_bytes()) {
        return Err(Y4mError::NotY4m);
    }
    let (mut width, mut height) = (None, None);
    let (mut fps_num, mut fps_den) = (25, 1);
    let mut format = YuvFormat::I420;
    for token in tokens {
        let value = std::str::from_utf8(&token[1..]).map_err(|_| bad_token(token))?;
        match token[0] {
            b'W' => width = Some(value.parse::<u32>().map_err(|_| bad_token(token))?),
            b'H' => height = Some(value.parse::<u32>().map_err(|_| bad_token(token))?),
            b'F' => {
                let (n, d) = value.split_once(':').ok_or_else(|| bad_token(token))?;
                fps_num = n.parse().map_err(|_| bad_token(token))?;
                fps_den = d.parse().map_err(|_| bad_token(token))?;
                if fps_num == 0 || fps_den == 0 {
                    return Err(bad_token(token));
                }
            }
            b'C' => {
                format = match value {
                    "420jpeg" | "420paldv" | "420mpeg2" | "420" => YuvFormat::I420,
                    "444" => YuvFormat::I444,
                    other => return Err(Y4mError::UnsupportedColourSpace(other.to_owned())),
                }
            }
            b'I' | b'A' | b'X' => {}
            _ => return Err(bad_token(token)),
        }
    }
    let (Some(width), Some(height)) = (width, height) else {
        return Err(Y4mError::BadHeader("W and H are required".to_owned()));
    };
    check_size(width, height).map_err(|()| Y4mError::BadSize { width, height })?;
    Ok(Y4mHeader { width, height, fps_num, fps_den, format })
}

fn bad_token(token: &[u8]) -> Y4mError {
    Y4mError::BadHeader(format!("token {:?}", String::from_utf8_lossy(token)))
}

fn check_size(width: u32, height: u32) -> Result<(), ()> {
    if (1..=MAX_DIMENSION).contains(&width) && (1..=MAX_DIMENSION).contains(&height) { Ok(()) } else { Err(()) }
}

/// Why a Y4M stream could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Y4mWriteError {
    /// Y4M here carries only I420 and I444.
    #[error("{0:?} cannot be written as Y4M; use I420 or I444")]
    UnsupportedFormat(YuvFormat),
    /// The size is zero or above [`MAX_DIMENSION`], or the frame rate has a zero term.
    #[error("bad stream parameters: {0}")]
    BadParameters(String),
    /// A picture's layout, size or plane lengths differ from the stream's.
    #[error("picture does not match the stream: {0}")]
    Mismatch(String),
    /// The underlying writer failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes pictures to a Y4M stream.
#[derive(Debug)]
pub struct Y4mWriter<W: Write> {
    inner: W,
    header: Y4mHeader,
}

impl<W: Write> Y4mWriter<W> {
    /// Writes the stream header of `width` x `height` pictures in `format` at
    /// `fps_num / fps_den` frames per second.
    ///
    /// # Errors
    ///
    /// [`Y4mWriteError`] if `format` is not I420 or I444, a parameter is out of range, or the
    /// writer fails.
    pub fn new(
        mut inner: W,
        width: u32,
        height: u32,
        fps_num: u32,
        fps_den: u32,
        format: YuvFormat,
    ) -> Result<Self, Y4mWriteError> {
        let colour = match format {
            YuvFormat::I420 => "420jpeg",
            YuvFormat::I444 => "444",
            YuvFormat::Nv12 => return Err(Y4mWriteError::UnsupportedFormat(format)),
        };
        check_size(width, height).map_err(|()| Y4mWriteError::BadParameters(format!("size {width}x{height}")))?;
        if fps_num == 0 || fps_den == 0 {
            return Err(Y4mWriteError::BadParameters(format!("frame rate {fps_num}:{fps_den}")));
        }
        writeln!(inner, "{MAGIC} W{width} H{height} F{fps_num}:{fps_den} Ip A1:1 C{colour}")?;
        Ok(Self { inner, header: Y4mHeader { width, height, fps_num, fps_den, format } })
    }

    /// The stream header written.
    #[must_use]
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Appends one picture.
    ///
    /// # Errors
    ///
    /// [`Y4mWriteError::Mismatch`] if the picture's layout, size or planes differ from the
    /// stream's (nothing is written then), [`Y4mWriteError::Io`] if the writer fails.
    pub fn write(&mut self, image: &YuvImage) -> Result<(), Y4mWriteError> {
        let Y4mHeader { width, height, format, .. } = self.header;
        if image.format != format || (image.width, image.height) != (width, height) {
            return Err(Y4mWriteError::Mismatch(format!(
                "{:?} {}x{}, stream is {format:?} {width}x{height}",
                image.format, image.width, image.height
            )));
        }
        if image.planes.len() != format.plane_count() {
            return Err(Y4mWriteError::Mismatch(format!("{} planes", image.planes.len())));
        }
        for (i, plane) in image.planes.iter().enumerate() {
            let (w, h) = format.plane_size(i, width, height);
            if plane.len() != w as usize * h as usize {
                return Err(Y4mWriteError::Mismatch(format!("plane {i} has {} bytes", plane.len())));
            }
        }
        self.inner.write_all(b"FRAME\n")?;
        for plane in &image.planes {
            self.inner.write_all(plane)?;
        }
        Ok(())
    }

    /// Flushes the underlying writer.
    ///
    /// # Errors
    ///
    /// [`Y4mWriteError::Io`] if the writer fails.
    pub fn flush(&mut self) -> Result<(), Y4mWriteError> {
        Ok(self.inner.flush()?)
    }

    /// The underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(format: YuvFormat, width: u32, height: u32, seed: u8) -> YuvImage {
        let mut image = YuvImage::black(format, width, height);
        for (p, plane) in image.planes.iter_mut().enumerate() {
            for (i, s) in plane.iter_mut().enumerate() {
                *s = (i as u8).wrapping_mul(7).wrapping_add(seed).wrapping_add(p as u8 * 50);
            }
        }
        image
    }

    fn write_all(format: YuvFormat, width: u32, height: u32, pictures: &[YuvImage]) -> Vec<u8> {
        let mut writer = Y4mWriter::new(Vec::new(), width, height, 30000, 1001, format).unwrap();
        for p in pictures {
            writer.write(p).unwrap();
        }
        writer.into_inner()
    }

    fn read_all(bytes: &[u8]) -> Result<(Y4mHeader, Vec<YuvImage>), Y4mError> {
        let mut reader = Y4mReader::new(bytes)?;
        let mut pictures = Vec::new();
        while let Some(p) = reader.next_frame()? {
            pictures.push(p);
        }
        Ok((*reader.header(), pictures))
    }

    #[test]
    fn y4m_round_trip_i420_and_i444() {
        for (format, w, h) in [(YuvFormat::I420, 64, 48), (YuvFormat::I420, 33, 17), (YuvFormat::I444, 40, 30)] {
            let pictures: Vec<_> = (0..3).map(|s| picture(format, w, h, s * 31)).collect();
            let bytes = write_all(format, w, h, &pictures);
            let (header, back) = read_all(&bytes).unwrap();
            assert_eq!(header, Y4mHeader { width: w, height: h, fps_num: 30000, fps_den: 1001, format });
            assert_eq!(back, pictures);
            assert_eq!(
                bytes.len(),
                header.frame_bytes() * 3 + 6 * 3 + bytes.iter().position(|&b| b == b'\n').unwrap() + 1
            );
        }
    }

    #[test]
    fn y4m_reads_other_420_spellings_and_ignores_extras() {
        for c in ["C420paldv", "C420mpeg2", "C420", ""] {
            let mut bytes =
                format!("YUV4MPEG2 W4 H2 F10:1 It A0:0 {c} XYSCSS=420JPEG XCOLORRANGE=LIMITED\n").into_bytes();
            bytes.extend_from_slice(b"FRAME Ixyz\n");
            bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
            let (header, pictures) = read_all(&bytes).unwrap();
            assert_eq!(header.format, YuvFormat::I420, "{c}");
            assert_eq!(pictures[0].planes, vec![vec![1, 2, 3, 4, 5, 6, 7, 8], vec![9, 10], vec![11, 12]]);
        }
        let (header, _) = read_all(b"YUV4MPEG2 W4 H2\n").unwrap();
        assert_eq!((header.fps_num, header.fps_den), (25, 1));
    }

    #[test]
    fn y4m_truncated_stream() {
        let pictures: Vec<_> = (0..2).map(|s| picture(YuvFormat::I420, 16, 16, s)).collect();
        let bytes = write_all(YuvFormat::I420, 16, 16, &pictures);
        let header_len = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        // Cut inside the second picture's planes, inside its FRAME line, and inside the header.
        for cut in [bytes.len() - 1, bytes.len() - 384 - 3, header_len - 3] {
            assert!(matches!(read_all(&bytes[..cut]), Err(Y4mError::Truncated)), "cut at {cut}");
        }
        // A cut at a picture boundary is a shorter stream, not an error.
        let (_, one) = read_all(&bytes[..header_len + 6 + 384]).unwrap();
        assert_eq!(one, pictures[..1]);
        assert!(matches!(read_all(b""), Err(Y4mError::NotY4m)));
    }

    #[test]
    fn y4m_bad_headers() {
        type Check = fn(&Y4mError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"YUV4MPEG W4 H2\n", |e| matches!(e, Y4mError::NotY4m)),
            (b"RIFF....\n", |e| matches!(e, Y4mError::NotY4m)),
            (b"YUV4MPEG2 W4\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W4 Hx\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W4 H2 F10\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W4 H2 F10:0\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W4 H2 Q1\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W4 H2 W\xff\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W-4 H2\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W99999999999 H2\n", |e| matches!(e, Y4mError::BadHeader(_))),
            (b"YUV4MPEG2 W0 H2\n", |e| matches!(e, Y4mError::BadSize { .. })),
            (b"YUV4MPEG2 W16385 H2\n", |e| matches!(e, Y4mError::BadSize { .. })),
            (b"YUV4MPEG2 W4 H2 C422\n", |e| matches!(e, Y4mError::UnsupportedColourSpace(_))),
            (b"YUV4MPEG2 W4 H2 C420p10\n", |e| matches!(e, Y4mError::UnsupportedColourSpace(_))),
            (b"YUV4MPEG2 W4 H2 Cmono\n", |e| matches!(e, Y4mError::UnsupportedColourSpace(_))),
            (b"YUV4MPEG2 W4 H2\nFRAMX\n", |e| matches!(e, Y4mError::BadFrameHeader)),
            (b"YUV4MPEG2 W4 H2\nFRAMES\n", |e| matches!(e, Y4mError::BadFrameHeader)),
        ];
        for (bytes, check) in cases {
            let err = read_all(bytes).unwrap_err();
            assert!(check(&err), "{:?}: {err:?}", String::from_utf8_lossy(bytes));
        }
        let mut long = b"YUV4MPEG2 W4 H2 ".to_vec();
        long.extend(std::iter::repeat_n(b'X', MAX_LINE));
        assert!(matches!(read_all(&long), Err(Y4mError::LineTooLong)));
        let mut long_frame = b"YUV4MPEG2 W4 H2\nFRAME ".to_vec();
        long_frame.extend(std::iter::repeat_n(b'X', MAX_LINE));
        assert!(matches!(read_all(&long_frame), Err(Y4mError::LineTooLong)));
        // Exactly at the limit is fine.
        let mut at_limit = b"YUV4MPEG2 W4 H2 X".to_vec();
        at_limit.extend(std::iter::repeat_n(b'x', MAX_LINE - at_limit.len() - 1));
        at_limit.push(b'\n');
        assert_eq!(at_limit.len(), MAX_LINE);
        read_all(&at_limit).unwrap();
    }

    #[test]
    fn y4m_writer_refuses_mismatches() {
        assert!(matches!(
            Y4mWriter::new(Vec::new(), 4, 4, 30, 1, YuvFormat::Nv12),
            Err(Y4mWriteError::UnsupportedFormat(_))
        ));
        assert!(matches!(
            Y4mWriter::new(Vec::new(), 0, 4, 30, 1, YuvFormat::I420),
            Err(Y4mWriteError::BadParameters(_))
        ));
        assert!(matches!(
            Y4mWriter::new(Vec::new(), 4, 4, 30, 0, YuvFormat::I420),
            Err(Y4mWriteError::BadParameters(_))
        ));
        let mut writer = Y4mWriter::new(Vec::new(), 8, 8, 30, 1, YuvFormat::I420).unwrap();
        let header_len = writer.get_len();
        for bad in [
            YuvImage::black(YuvFormat::I444, 8, 8),
            YuvImage::black(YuvFormat::I420, 8, 6),
            YuvImage { planes: vec![vec![0; 64], vec![0; 16], vec![0; 15]], ..YuvImage::black(YuvFormat::I420, 8, 8) },
            YuvImage { planes: vec![vec![0; 64]], ..YuvImage::black(YuvFormat::I420, 8, 8) },
        ] {
            assert!(matches!(writer.write(&bad), Err(Y4mWriteError::Mismatch(_))), "{bad:?}");
        }
        assert_eq!(writer.get_len(), header_len, "nothing written for a refused picture");
    }

    impl Y4mWriter<Vec<u8>> {
        fn get_len(&self) -> usize {
            self.inner.len()
        }
    }
}
