//! Hardware probing returns cleanly on any machine, and opening "hardware first" falls back
//! to software when no device answers.

use asp_codec::ffmpeg::{EncoderKind, FfmpegVideoEncoder, hw};
use asp_codec::{VideoCodec, VideoEncoder, VideoEncoderConfig, YuvFormat};

#[test]
fn probe_returns_a_complete_report() {
    let report = hw::probe();
    println!("{report:#?}");
    assert_eq!(report.devices.len(), 3);
    assert_eq!(report.encoders.len(), 4, "NVENC H.264 and HEVC, 4:2:0 and 4:4:4");
    assert_eq!(report.decoders.len(), 3, "NVDEC H.264, HEVC, AV1");
    // Without a CUDA device nothing NVIDIA can open; with one the report may say either.
    if report.devices.iter().any(|d| d.what == hw::DeviceType::Cuda && d.result.is_err()) {
        assert!(!report.can_encode(VideoCodec::H264, YuvFormat::I420));
        assert!(report.encoders.iter().all(|e| e.result.is_err()));
    }
    // Every failure carries a reason.
    assert!(report.encoders.iter().filter_map(|e| e.result.as_ref().err()).all(|r| !r.is_empty()));
}

#[test]
fn hardware_first_falls_back_to_software() {
    let config = VideoEncoderConfig::new(VideoCodec::H264, 320, 192);
    let enc = FfmpegVideoEncoder::open_first(&[EncoderKind::Nvenc, EncoderKind::X264], &config).unwrap();
    let report = hw::probe();
    if report.can_encode(VideoCodec::H264, YuvFormat::I420) {
        assert_eq!(enc.info().name, "h264_nvenc");
        assert!(enc.info().hardware);
    } else {
        assert_eq!(enc.info().name, "libx264");
        assert!(!enc.info().hardware);
    }
}
