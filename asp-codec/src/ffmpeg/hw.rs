//! Runtime probing of hardware video engines: what opens on this machine, now.
//!
//! Probing opens each candidate for real (a 256x144 encoder, a decoder, a device context)
//! and closes it again; anything that fails to open is reported as unavailable with FFmpeg's
//! reason. On a machine without a GPU every probe fails quickly and cleanly, and callers fall
//! back to software (see [`super::FfmpegVideoEncoder::open_first`]).
//!
//! What is wired as a usable path: NVENC encoders (they take frames from system memory) and
//! NVDEC (`*_cuvid`) decoders. VAAPI and QSV devices are probed and reported, but their
//! encoders need frames uploaded into device surfaces, which this crate does not do yet, so
//! they are never reported as usable encoders.
//!
//! [`encode_capabilities`] and [`decode_capabilities`] turn a report into the lists that
//! [`crate::negotiate::negotiate`] takes, with this build's software codecs added.
#![allow(unsafe_code)]

use ffmpeg_next::ffi;

use super::options::EncoderKind;
use super::{FfmpegVideoDecoder, FfmpegVideoEncoder};
use crate::frame::YuvFormat;
use crate::video::{VideoCodec, VideoEncoderConfig};

/// A kind of hardware device FFmpeg can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    /// NVIDIA CUDA (what NVENC and NVDEC run on).
    Cuda,
    /// VA-API (Intel, AMD on Linux).
    Vaapi,
    /// Intel Quick Sync.
    Qsv,
}

/// The outcome of probing one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe<T> {
    /// What was probed.
    pub what: T,
    /// `Ok(())` if it opened, FFmpeg's reason otherwise.
    pub result: Result<(), String>,
}

/// A probed codec implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecProbe {
    /// FFmpeg's name of the implementation.
    pub name: &'static str,
    /// Codec.
    pub codec: VideoCodec,
    /// Chroma layout it was probed with.
    pub format: YuvFormat,
}

/// Everything found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HardwareReport {
    /// Device contexts.
    pub devices: Vec<Probe<DeviceType>>,
    /// Hardware encoders, each probed with 4:2:0 and 4:4:4 input.
    pub encoders: Vec<Probe<CodecProbe>>,
    /// Hardware decoders.
    pub decoders: Vec<Probe<CodecProbe>>,
}

impl HardwareReport {
    /// Whether `codec` can be encoded in hardware with `format`.
    #[must_use]
    pub fn can_encode(&self, codec: VideoCodec, format: YuvFormat) -> bool {
        self.encoders.iter().any(|p| p.what.codec == codec && p.what.format == format && p.result.is_ok())
    }

    /// Whether `codec` can be decoded in hardware.
    #[must_use]
    pub fn can_decode(&self, codec: VideoCodec) -> bool {
        self.decoders.iter().any(|p| p.what.codec == codec && p.result.is_ok())
    }
}

fn probe_device(kind: DeviceType) -> Probe<DeviceType> {
    let av_type = match kind {
        DeviceType::Cuda => ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA,
        DeviceType::Vaapi => ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI,
        DeviceType::Qsv => ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_QSV,
    };
    let mut device: *mut ffi::AVBufferRef = std::ptr::null_mut();
    // SAFETY: av_hwdevice_ctx_create writes a new reference into `device` on success (and
    // leaves it null on failure); a null device name and options pick the default device.
    let rc = unsafe { ffi::av_hwdevice_ctx_create(&mut device, av_type, std::ptr::null(), std::ptr::null_mut(), 0) };
    if !device.is_null() {
        // SAFETY: `device` is the reference created above, released exactly once here.
        unsafe { ffi::av_buffer_unref(&mut device) };
    }
    let result = if rc >= 0 { Ok(()) } else { Err(ffmpeg_next::Error::from(rc).to_string()) };
    Probe { what: kind, result }
}

/// Probes devices, hardware encoders and hardware decoders. Takes up to a few hundred
/// milliseconds with a GPU (each encoder opens a session); fails fast without one.
#[must_use]
pub fn probe() -> HardwareReport {
    super::init();
    let mut report = HardwareReport {
        devices: [DeviceType::Cuda, DeviceType::Vaapi, DeviceType::Qsv].into_iter().map(probe_device).collect(),
        ..HardwareReport::default()
    };
    for codec in [VideoCodec::H264, VideoCodec::Hevc] {
        for format in [YuvFormat::I420, YuvFormat::I444] {
            let name = EncoderKind::Nvenc.ffmpeg_name(codec).unwrap_or("nvenc");
            let config = VideoEncoderConfig { format, ..VideoEncoderConfig::new(codec, 256, 144) };
            let result =
                FfmpegVideoEncoder::open_kind(EncoderKind::Nvenc, &config).map(drop).map_err(|e| e.to_string());
            report.encoders.push(Probe { what: CodecProbe { name, codec, format }, result });
        }
    }
    for (codec, name) in
        [(VideoCodec::H264, "h264_cuvid"), (VideoCodec::Hevc, "hevc_cuvid"), (VideoCodec::Av1, "av1_cuvid")]
    {
        let result = FfmpegVideoDecoder::open_named(codec, name).map(drop).map_err(|e| e.to_string());
        report.decoders.push(Probe { what: CodecProbe { name, codec, format: YuvFormat::I420 }, result });
    }
    report
}

/// What this machine can encode: hardware encoders that opened in `report`, then the software
/// encoders built here (libx264 and libx265 with 4:4:4; rav1e with the `rav1e` feature).
#[must_use]
pub fn encode_capabilities(report: &HardwareReport) -> Vec<crate::negotiate::EncodeCapability> {
    use crate::negotiate::EncodeCapability;
    let mut caps = Vec::new();
    for codec in [VideoCodec::H264, VideoCodec::Hevc] {
        if report.can_encode(codec, YuvFormat::I420) {
            let yuv444 = report.can_encode(codec, YuvFormat::I444);
            caps.push(EncodeCapability { codec, hardware: true, yuv444 });
        }
    }
    caps.push(EncodeCapability { codec: VideoCodec::H264, hardware: false, yuv444: true });
    caps.push(EncodeCapability { codec: VideoCodec::Hevc, hardware: false, yuv444: true });
    if cfg!(feature = "rav1e") {
        caps.push(EncodeCapability { codec: VideoCodec::Av1, hardware: false, yuv444: true });
    }
    caps
}

/// What this machine can decode: NVDEC decoders that opened in `report` (4:2:0 only; NVDEC's
/// 4:4:4 support depends on the GPU and is not probed), then FFmpeg's software decoders
/// (H.264 and HEVC with 4:4:4, AV1 through libdav1d when this FFmpeg has it).
#[must_use]
pub fn decode_capabilities(report: &HardwareReport) -> Vec<crate::negotiate::DecodeCapability> {
    use crate::negotiate::DecodeCapability;
    super::init();
    let mut caps: Vec<DecodeCapability> = [VideoCodec::H264, VideoCodec::Hevc, VideoCodec::Av1]
        .into_iter()
        .filter(|c| report.can_decode(*c))
        .map(|codec| DecodeCapability { codec, hardware: true, yuv444: false })
        .collect();
    caps.push(DecodeCapability { codec: VideoCodec::H264, hardware: false, yuv444: true });
    caps.push(DecodeCapability { codec: VideoCodec::Hevc, hardware: false, yuv444: true });
    if ffmpeg_next::decoder::find_by_name("libdav1d").is_some() {
        caps.push(DecodeCapability { codec: VideoCodec::Av1, hardware: false, yuv444: true });
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::negotiate::negotiate;
    use crate::scene::SceneClass;

    fn no_hardware() -> HardwareReport {
        let failed = |name, codec, format| Probe {
            what: CodecProbe { name, codec, format },
            result: Err("no device".to_string()),
        };
        HardwareReport {
            devices: vec![Probe { what: DeviceType::Cuda, result: Err("no device".into()) }],
            encoders: vec![failed("h264_nvenc", VideoCodec::H264, YuvFormat::I420)],
            decoders: vec![failed("h264_cuvid", VideoCodec::H264, YuvFormat::I420)],
        }
    }

    #[test]
    fn without_hardware_software_capabilities_remain() {
        let report = no_hardware();
        let enc = encode_capabilities(&report);
        assert!(enc.iter().all(|c| !c.hardware));
        assert!(enc.iter().any(|c| c.codec == VideoCodec::H264 && c.yuv444));
        let dec = decode_capabilities(&report);
        assert!(dec.iter().all(|c| !c.hardware));
        // This machine negotiates with itself: office in 4:4:4 HEVC at a low rate.
        let choice = negotiate(&enc, &dec, 1_000_000, SceneClass::Office).unwrap();
        assert_eq!((choice.codec, choice.format), (VideoCodec::Hevc, YuvFormat::I444));
    }

    #[test]
    fn an_opened_hardware_encoder_comes_first() {
        let mut report = no_hardware();
        report.encoders[0].result = Ok(());
        let enc = encode_capabilities(&report);
        assert_eq!(
            enc[0],
            crate::negotiate::EncodeCapability { codec: VideoCodec::H264, hardware: true, yuv444: false }
        );
        let dec = decode_capabilities(&report);
        let choice = negotiate(&enc, &dec, 20_000_000, SceneClass::Video).unwrap();
        assert!(choice.hardware_encode);
    }
}
