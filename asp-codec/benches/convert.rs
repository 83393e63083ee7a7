//! Pixel conversion at 1080p: the `yuv` crate against FFmpeg's swscale, each direction and
//! layout, on the same office frame (the decision in `convert`'s module doc rests on this).
#![allow(missing_docs)] // criterion_group! / criterion_main! generate undocumented items

use asp_codec::convert::{self, swscale::SwsConverter};
use asp_codec::synth::{Source, SourceKind};
use asp_codec::{ChannelOrder, YuvFormat, YuvImage};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

const W: u32 = 1920;
const H: u32 = 1080;

fn bench(c: &mut Criterion) {
    let bgra = Source::new(SourceKind::Video, W, H, 1).next_frame();
    let mut group = c.benchmark_group("convert_1080p");
    group.sample_size(20);
    for (format, name) in [(YuvFormat::I420, "i420"), (YuvFormat::I444, "i444"), (YuvFormat::Nv12, "nv12")] {
        let mut dst = YuvImage::black(format, W, H);
        group.bench_function(format!("bgra_to_{name}/yuv"), |b| {
            b.iter(|| convert::to_yuv_into(black_box(&bgra), &mut dst).unwrap());
        });
        let mut sws = SwsConverter::to_yuv(ChannelOrder::Bgra, format, W, H).unwrap();
        group.bench_function(format!("bgra_to_{name}/swscale"), |b| {
            b.iter(|| sws.convert_to_yuv(black_box(&bgra), &mut dst).unwrap());
        });
        let yuv = convert::to_yuv(&bgra, format).unwrap();
        group.bench_function(format!("{name}_to_bgra/yuv"), |b| {
            b.iter(|| convert::to_rgba(black_box(&yuv), ChannelOrder::Bgra).unwrap());
        });
        let mut back = bgra.clone();
        let mut sws = SwsConverter::to_rgba(format, ChannelOrder::Bgra, W, H).unwrap();
        group.bench_function(format!("{name}_to_bgra/swscale"), |b| {
            b.iter(|| sws.convert_to_rgba(black_box(&yuv), &mut back).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
