//! A small set of disjoint inclusive `u64` ranges, kept sorted. It tracks received packet
//! numbers (for acknowledgements) and received byte ranges of a message (for reassembly).

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RangeSet {
    /// Ascending by start.
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    /// Inserts `lo..=hi`; returns how many values were new.
    pub(crate) fn insert(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        // First range that could touch or overlap: its end + 1 >= lo.
        let start = self.ranges.partition_point(|r| r.1.saturating_add(1) < lo);
        let mut end = start;
        let (mut new_lo, mut new_hi) = (lo, hi);
        let mut covered = 0;
        while end < self.ranges.len() && self.ranges[end].0 <= hi.saturating_add(1) {
            let (a, b) = self.ranges[end];
            covered += b.min(hi).saturating_add(1).saturating_sub(a.max(lo));
            new_lo = new_lo.min(a);
            new_hi = new_hi.max(b);
            end += 1;
        }
        self.ranges.splice(start..end, [(new_lo, new_hi)]);
        (hi - lo + 1) - covered
    }

    /// Whether `v` is in the set.
    pub(crate) fn contains(&self, v: u64) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < v);
        self.ranges.get(i).is_some_and(|r| r.0 <= v)
    }

    /// Whether every value of `lo..=hi` is in the set.
    pub(crate) fn contains_range(&self, lo: u64, hi: u64) -> bool {
        let i = self.ranges.partition_point(|r| r.1 < lo);
        self.ranges.get(i).is_some_and(|r| r.0 <= lo && r.1 >= hi)
    }

    /// The gaps of the set within `0..limit`, as `(start, length)`, lowest first.
    pub(crate) fn gaps_below(&self, limit: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut next = 0u64;
        self.ranges
            .iter()
            .map(Some)
            .chain(std::iter::once(None))
            .filter_map(move |r| {
                let (start, resume) = match r {
                    Some(&(lo, hi)) => (lo.min(limit), hi.saturating_add(1)),
                    None => (limit, limit),
                };
                let gap = (next < start).then(|| (next, start - next));
                next = next.max(resume);
                gap
            })
            .take_while(move |(s, _)| *s < limit)
    }

    /// Number of ranges.
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Lowest value, if any.
    pub(crate) fn min(&self) -> Option<u64> {
        self.ranges.first().map(|r| r.0)
    }

    /// Highest value, if any.
    pub(crate) fn max(&self) -> Option<u64> {
        self.ranges.last().map(|r| r.1)
    }

    /// Whether the set is exactly `0..=hi` for `hi = len - 1` (a complete message).
    pub(crate) fn covers(&self, len: u64) -> bool {
        len == 0 || self.ranges.as_slice() == [(0, len - 1)]
    }

    /// Drops the lowest ranges until at most `max` remain.
    pub(crate) fn truncate_low(&mut self, max: usize) {
        if self.ranges.len() > max {
            self.ranges.drain(..self.ranges.len() - max);
        }
    }

    /// Ranges from highest to lowest.
    pub(crate) fn iter_desc(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().rev().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Model test: the set against a plain boolean array.
    #[test]
    fn matches_a_bitmap_model() {
        for seed in 0..50 {
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
            let mut set = RangeSet::default();
            let mut model = [false; 200];
            for _ in 0..100 {
                let lo = rng.random_range(0..200u64);
                let hi = rng.random_range(lo..(lo + 10).min(200));
                let expected_new = (lo..=hi).filter(|v| !model[*v as usize]).count() as u64;
                assert_eq!(set.insert(lo, hi), expected_new);
                for v in lo..=hi {
                    model[v as usize] = true;
                }
                for (v, present) in model.iter().enumerate() {
                    assert_eq!(set.contains(v as u64), *present, "seed {seed} value {v}");
                }
                for w in set.ranges.windows(2) {
                    assert!(w[0].1 + 1 < w[1].0, "ranges must be disjoint and non-adjacent");
                }
            }
        }
    }

    #[test]
    fn gaps_below_a_limit() {
        let mut s = RangeSet::default();
        assert_eq!(s.gaps_below(10).collect::<Vec<_>>(), vec![(0, 10)]);
        s.insert(2, 3);
        s.insert(6, 20);
        assert_eq!(s.gaps_below(10).collect::<Vec<_>>(), vec![(0, 2), (4, 2)]);
        assert_eq!(s.gaps_below(5).collect::<Vec<_>>(), vec![(0, 2), (4, 1)]);
        assert_eq!(s.gaps_below(25).collect::<Vec<_>>(), vec![(0, 2), (4, 2), (21, 4)]);
        assert_eq!(s.gaps_below(1).collect::<Vec<_>>(), vec![(0, 1)]);
    }

    #[test]
    fn covers_only_complete_prefix() {
        let mut s = RangeSet::default();
        s.insert(5, 9);
        assert!(!s.covers(10));
        s.insert(0, 4);
        assert!(s.covers(10));
        assert!(!s.covers(11));
    }
}
