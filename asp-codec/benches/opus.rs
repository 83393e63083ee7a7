//! Opus cost per frame: encode and decode of 10 and 20 ms stereo frames at 48 kHz.
#![allow(missing_docs)] // criterion_group! / criterion_main! generate undocumented items

use asp_codec::audio::{AudioDecoder, AudioEncoder, AudioFrame, OpusConfig, OpusDecoder, OpusEncoder};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("opus");
    for frame_ms in [10, 20] {
        let config = OpusConfig { frame_ms, dtx: false, ..OpusConfig::default() };
        let samples: Vec<i16> = (0..config.frame_samples())
            .map(|i| ((i as f64 * 0.05).sin() * 8000.0 + (i as f64 * 0.31).sin() * 3000.0) as i16)
            .collect();
        let frame = AudioFrame { samples, channels: 2, sample_rate: 48_000, pts_us: 0, frame_id: 0 };
        let mut enc = OpusEncoder::new(config).unwrap();
        group.bench_function(format!("encode_{frame_ms}ms"), |b| b.iter(|| enc.encode(&frame).unwrap()));
        let packet = enc.encode(&frame).unwrap().unwrap();
        let mut dec = OpusDecoder::new(config).unwrap();
        group.bench_function(format!("decode_{frame_ms}ms"), |b| b.iter(|| dec.decode(&packet).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
