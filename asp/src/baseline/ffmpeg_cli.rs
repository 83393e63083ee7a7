//! Baseline (a): the FFmpeg command-line tool's libx264, configured as a low-latency
//! streaming encoder, on the same Y4M source and at the bitrate ASP used.
//!
//! Settings: `-preset veryfast -tune zerolatency` (no lookahead, sliced threads), no B-frames,
//! `-b:v` = `-maxrate` = the bitrate and `-bufsize` = one frame's bits (a one-frame VBV, so
//! no frame may exceed its share of the link). GOP: one IDR picture at the start and P-frames
//! only after it (`keyint=infinite:scenecut=0`), as a remote-desktop stream that sends
//! keyframes only on request would; x264 writes an access unit delimiter before each picture
//! (`aud=1`), which is where the stream is cut into frames.

use std::ffi::OsStr;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use asp_codec::VideoCodec;
use asp_codec::bitstream::{is_idr, nal_type};
use asp_codec::y4m::Y4mReader;
use bytes::Bytes;

use super::BaselineError;
use super::process::{limit_for, run_quiet};

/// The encoder settings, as x264 options (after `-x264-params`).
pub const X264_PARAMS: &str = "keyint=infinite:scenecut=0:aud=1";

/// What [`encode_x264`] produced.
#[derive(Debug, Clone)]
pub struct X264Baseline {
    /// One Annex B access unit per source frame, in order (the first holds SPS, PPS and the
    /// IDR picture).
    pub frames: Vec<Bytes>,
    /// The bitrate asked for, kbit/s.
    pub target_kbps: u32,
    /// The bitrate achieved over the whole stream, kbit/s.
    pub bitrate_kbps: f64,
    /// The frame rate the stream was encoded at.
    pub fps: u32,
    /// How many access units hold an IDR picture (1 with this GOP).
    pub idr_frames: usize,
    /// The raw Annex B stream.
    pub stream_path: PathBuf,
    /// The stream decoded by the FFmpeg CLI to 8-bit 4:2:0, as Y4M, for VMAF.
    pub decoded_y4m: PathBuf,
    /// The ffmpeg encoder options used, for the report.
    pub settings: String,
}

/// Encodes `source_y4m` with the FFmpeg CLI's libx264 at `bitrate_kbps` and `fps` (the source's
/// own frame rate is overridden), writing `stream.h264` and `decoded.y4m` into `work_dir`
/// (created if missing). Blocking: it runs two ffmpeg processes, each within a deadline that
/// grows with the source's size; call it from `spawn_blocking` in async code.
///
/// # Errors
/// [`BaselineError::ToolMissing`] without `ffmpeg`; [`BaselineError::ToolFailed`] when ffmpeg
/// exits with an error or reports one; [`BaselineError::Timeout`] when it runs past its
/// deadline; [`BaselineError::BadStream`] when the stream cannot be cut into access units or
/// the decoded Y4M does not hold one picture per access unit; [`BaselineError::Io`] for the
/// files; [`BaselineError::InvalidArgument`] for a zero bitrate or frame rate.
pub fn encode_x264(
    source_y4m: &Path,
    bitrate_kbps: u32,
    fps: u32,
    work_dir: &Path,
) -> Result<X264Baseline, BaselineError> {
    if bitrate_kbps == 0 || fps == 0 {
        return Err(BaselineError::InvalidArgument(format!(
            "bitrate {bitrate_kbps} kbit/s and frame rate {fps} must be positive"
        )));
    }
    std::fs::create_dir_all(work_dir).map_err(BaselineError::io(format!("creating {}", work_dir.display())))?;
    let stream_path = work_dir.join("stream.h264");
    let decoded_y4m = work_dir.join("decoded.y4m");
    let limit = limit_for(source_y4m);

    let rate = format!("{bitrate_kbps}k");
    // One frame's bits, rounded up.
    let frame_bits = (u64::from(bitrate_kbps) * 1000).div_ceil(u64::from(fps)).to_string();
    let fps_arg = fps.to_string();
    let settings = format!(
        "-c:v libx264 -preset veryfast -tune zerolatency -b:v {rate} -maxrate {rate} -bufsize {frame_bits} -bf 0 \
         -x264-params {X264_PARAMS}"
    );
    let quiet: [&OsStr; 5] = ["-hide_banner", "-nostdin", "-v", "error", "-xerror"].map(OsStr::new);
    let mut encode: Vec<&OsStr> = quiet.to_vec();
    encode.extend(["-y", "-r", &fps_arg, "-i"].map(OsStr::new));
    encode.push(source_y4m.as_os_str());
    encode.extend(
        [
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-b:v",
            &rate,
            "-maxrate",
            &rate,
            "-bufsize",
            &frame_bits,
            "-bf",
            "0",
            "-x264-params",
            X264_PARAMS,
            "-f",
            "h264",
        ]
        .map(OsStr::new),
    );
    encode.push(stream_path.as_os_str());
    run_quiet("ffmpeg", &encode, limit)?;

    let stream = Bytes::from(
        std::fs::read(&stream_path).map_err(BaselineError::io(format!("reading {}", stream_path.display())))?,
    );
    let frames = split_access_units(&stream)?;
    let idr_frames = frames.iter().filter(|f| is_idr(VideoCodec::H264, f) == Some(true)).count();
    if is_idr(VideoCodec::H264, &frames[0]) != Some(true) {
        return Err(BaselineError::BadStream("the first access unit holds no IDR picture".into()));
    }

    let mut decode: Vec<&OsStr> = quiet.to_vec();
    decode.extend(["-y", "-framerate", &fps_arg, "-i"].map(OsStr::new));
    decode.push(stream_path.as_os_str());
    decode.extend(["-pix_fmt", "yuv420p", "-fps_mode", "passthrough", "-f", "yuv4mpegpipe"].map(OsStr::new));
    decode.push(decoded_y4m.as_os_str());
    run_quiet("ffmpeg", &decode, limit)?;
    let decoded = count_y4m_frames(&decoded_y4m)?;
    if decoded != frames.len() {
        return Err(BaselineError::BadStream(format!(
            "{} access units, but ffmpeg decoded {decoded} pictures",
            frames.len()
        )));
    }

    let bits = stream.len() as f64 * 8.0;
    let bitrate_kbps_achieved = bits * f64::from(fps) / frames.len() as f64 / 1000.0;
    Ok(X264Baseline {
        frames,
        target_kbps: bitrate_kbps,
        bitrate_kbps: bitrate_kbps_achieved,
        fps,
        idr_frames,
        stream_path,
        decoded_y4m,
        settings,
    })
}

/// Cuts an Annex B stream into access units at its access unit delimiters (NAL type 9); the
/// zero bytes before a start code go with the unit that follows. Never empty on success.
fn split_access_units(stream: &Bytes) -> Result<Vec<Bytes>, BaselineError> {
    let data = &stream[..];
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            if nal_type(VideoCodec::H264, &data[i + 3..]) == Some(9) {
                let mut s = i;
                while s > starts.last().copied().unwrap_or(0) && data[s - 1] == 0 {
                    s -= 1;
                }
                starts.push(s);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    match starts.first() {
        None => return Err(BaselineError::BadStream("no access unit delimiter in the stream".into())),
        Some(&s) if s != 0 => {
            return Err(BaselineError::BadStream(format!("{s} bytes before the first access unit delimiter")));
        }
        Some(_) => {}
    }
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(data.len()));
    Ok(starts.iter().zip(ends).map(|(&s, e)| stream.slice(s..e)).collect())
}

/// How many pictures a Y4M file holds.
fn count_y4m_frames(path: &Path) -> Result<usize, BaselineError> {
    let file = std::fs::File::open(path).map_err(BaselineError::io(format!("opening {}", path.display())))?;
    let bad = |e| BaselineError::BadStream(format!("{}: {e}", path.display()));
    let mut reader = Y4mReader::new(BufReader::new(file)).map_err(bad)?;
    let mut n = 0;
    while reader.next_frame().map_err(bad)?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_delimiters_keeping_four_byte_start_codes() {
        let aud = [0, 0, 0, 1, 0x09, 0xF0];
        let mut s = Vec::new();
        s.extend_from_slice(&aud);
        s.extend_from_slice(&[0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x65, 2]);
        let second = s.len();
        s.extend_from_slice(&aud);
        s.extend_from_slice(&[0, 0, 1, 0x41, 3, 0]);
        let units = split_access_units(&Bytes::from(s.clone())).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(&units[0][..], &s[..second]);
        assert_eq!(&units[1][..], &s[second..]);
        assert_eq!(is_idr(VideoCodec::H264, &units[0]), Some(true));
        assert_eq!(is_idr(VideoCodec::H264, &units[1]), Some(false));
    }

    #[test]
    fn rejects_streams_without_leading_delimiter() {
        assert!(split_access_units(&Bytes::from_static(&[0, 0, 1, 0x65, 1])).is_err());
        assert!(split_access_units(&Bytes::from_static(&[0, 0, 1, 0x65, 1, 0, 0, 1, 9, 0])).is_err());
        assert!(split_access_units(&Bytes::new()).is_err());
    }
}
