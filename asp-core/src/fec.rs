//! Forward error correction for media frames: Reed-Solomon (reed-solomon-simd) over the frame
//! cut into equal shards. Data fragments are the shards themselves, so one lost packet costs
//! exactly one shard, and `m` repair shards rebuild any `m` lost ones without a round trip.

use bytes::Bytes;

use crate::range_set::RangeSet;

/// Shard size for a carrier MTU: what is left of a packet after the largest headers and the
/// control frames that may share it (acknowledgements, feedback), rounded down to even (the
/// codec works on 16-bit words).
pub(crate) fn shard_size(mtu: usize) -> usize {
    (mtu.saturating_sub(120)).max(64) & !1
}

/// Data shards of a frame of `total` bytes.
pub(crate) fn data_shards(total: usize, shard: usize) -> usize {
    total.div_ceil(shard).max(1)
}

/// Repair shards for a frame of `k` data shards at an overhead share.
pub(crate) fn repair_count(k: usize, overhead: f64) -> usize {
    if overhead <= 0.0 {
        return 0;
    }
    ((k as f64 * overhead).ceil() as usize).clamp(1, k.max(1))
}

/// The `i`th shard of `frame`, zero-padded to `shard` bytes.
fn padded(frame: &[u8], i: usize, shard: usize) -> Vec<u8> {
    let start = (i * shard).min(frame.len());
    let end = ((i + 1) * shard).min(frame.len());
    let mut v = frame[start..end].to_vec();
    v.resize(shard, 0);
    v
}

/// `m` repair shards for `frame`, or `None` if the codec refuses these counts.
pub(crate) fn encode(frame: &[u8], shard: usize, m: usize) -> Option<Vec<Bytes>> {
    let k = data_shards(frame.len(), shard);
    if m == 0 || !reed_solomon_simd::ReedSolomonEncoder::supports(k, m) {
        return None;
    }
    let shards = (0..k).map(|i| padded(frame, i, shard));
    let repairs = reed_solomon_simd::encode(k, m, shards).ok()?;
    Some(repairs.into_iter().map(Bytes::from).collect())
}

/// Rebuilds the missing shards of a frame in place, if the data shards held (`have`, byte
/// ranges of `buf`) and the repair shards (by index) are together at least `k`. Returns whether
/// `buf` is now complete.
pub(crate) fn recover(buf: &mut [u8], have: &RangeSet, shard: usize, m: usize, repairs: &[(usize, Bytes)]) -> bool {
    let total = buf.len();
    let k = data_shards(total, shard);
    let complete = |i: usize| {
        let start = (i * shard) as u64;
        let end = (((i + 1) * shard).min(total) as u64).max(start + 1) - 1;
        total == 0 || have.contains_range(start, end)
    };
    let present: Vec<usize> = (0..k).filter(|i| complete(*i)).collect();
    if present.len() == k {
        return true;
    }
    if present.len() + repairs.len() < k || repairs.iter().any(|(_, r)| r.len() != shard) {
        return false;
    }
    let originals: Vec<(usize, Vec<u8>)> = present.iter().map(|&i| (i, padded(buf, i, shard))).collect();
    let Ok(restored) = reed_solomon_simd::decode(k, m, originals, repairs.iter().map(|(i, r)| (*i, &r[..]))) else {
        return false;
    };
    for (i, data) in restored {
        let start = i * shard;
        let end = ((i + 1) * shard).min(total);
        if start < end {
            buf[start..end].copy_from_slice(&data[..end - start]);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_m_lost_shards_are_rebuilt() {
        let shard = shard_size(1200);
        for (len, m) in [(1usize, 1usize), (shard, 1), (5 * shard + 7, 2), (40_000, 4)] {
            let frame: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let repairs = encode(&frame, shard, m).unwrap();
            assert_eq!(repairs.len(), m);
            let k = data_shards(len, shard);
            // Lose the first m data shards (or all of them when k <= m).
            let lost = m.min(k);
            let mut have = RangeSet::default();
            let mut buf = frame.clone();
            for i in 0..k {
                let (start, end) = (i * shard, ((i + 1) * shard).min(len));
                if i < lost {
                    buf[start..end].fill(0);
                } else {
                    have.insert(start as u64, end as u64 - 1);
                }
            }
            let indexed: Vec<(usize, Bytes)> = repairs.into_iter().enumerate().collect();
            assert!(recover(&mut buf, &have, shard, m, &indexed), "len {len} m {m}");
            assert_eq!(buf, frame, "len {len} m {m}");
        }
    }

    #[test]
    fn too_few_shards_is_not_a_recovery() {
        let shard = 64;
        let frame = vec![7u8; 10 * shard];
        let repairs: Vec<(usize, Bytes)> = encode(&frame, shard, 2).unwrap().into_iter().enumerate().collect();
        let mut have = RangeSet::default();
        have.insert(3 * 64, 10 * 64 - 1);
        let mut buf = vec![0u8; frame.len()];
        buf[3 * 64..].copy_from_slice(&frame[3 * 64..]);
        assert!(!recover(&mut buf, &have, shard, 2, &repairs));
    }
}
