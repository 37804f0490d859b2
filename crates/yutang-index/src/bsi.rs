//! A bit-sliced index (O'Neil & Quass, "Improved query performance with variant indexes",
//! 1997) over roaring bitmaps: the range structure for integer, money and time attributes.
//!
//! Each customer's value `v` is stored as the unsigned offset `u = v - base`; slice `i` holds
//! the customers whose `u` has bit `i` set, and `exists` holds every customer with a value.
//! A range query walks the slices from the most significant bit down, keeping the set of
//! customers whose high bits equal the bound's so far; that set shrinks fast on real data,
//! so later steps work on small bitmaps. Queries can start from a filter (the customers still
//! in play in an `and`), so their cost follows the filter rather than the whole column
//! (roaring 0.10 still merges sparse containers linearly, so large sparse slices cost too).
//!
//! Only as many slices exist as `max - base` needs. A value below `base` re-bases the column by
//! adding a constant to every stored offset, with a ripple-carry adder over the slices (a few
//! bitmap operations per slice), so updates never rescan customers. The base only moves down:
//! after an outlier is removed the column keeps its width until the index is rebuilt.

use roaring::{MultiOps, RoaringBitmap};

use crate::sink::Sink;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Bsi {
    base: i64,
    /// An upper bound of the stored offsets (exact after a build, may be stale after
    /// removals), so a range whose top is above every value skips its upper-bound pass.
    max_u: u64,
    exists: RoaringBitmap,
    slices: Vec<RoaringBitmap>,
}

/// `v - base` as an unsigned offset; callers guarantee `v >= base`.
fn offset(v: i64, base: i64) -> u64 {
    (v as u64).wrapping_sub(base as u64)
}

fn bits_needed(u: u64) -> usize {
    (u64::BITS - u.leading_zeros()) as usize
}

fn bit(u: u64, i: usize) -> bool {
    i < 64 && (u >> i) & 1 == 1
}

impl Bsi {
    /// Build from `(id, value)` pairs, one per id, in any order.
    pub(crate) fn from_pairs(pairs: &[(u32, i64)]) -> Bsi {
        let Some(base) = pairs.iter().map(|p| p.1).min() else {
            return Bsi::default();
        };
        let max = pairs.iter().map(|p| p.1).max().unwrap_or(base);
        let bits = bits_needed(offset(max, base));
        let mut slices: Vec<Sink> = (0..bits).map(|_| Sink::default()).collect();
        let mut exists = Sink::default();
        for &(id, v) in pairs {
            exists.add(id);
            let mut u = offset(v, base);
            while u != 0 {
                let i = u.trailing_zeros() as usize;
                if let Some(s) = slices.get_mut(i) {
                    s.add(id);
                }
                u &= u - 1;
            }
        }
        Bsi {
            base,
            max_u: offset(max, base),
            exists: exists.finish(),
            slices: slices.into_iter().map(Sink::finish).collect(),
        }
    }

    pub(crate) fn exists(&self) -> &RoaringBitmap {
        &self.exists
    }

    pub(crate) fn slices(&self) -> &[RoaringBitmap] {
        &self.slices
    }

    /// The value stored for `id`.
    #[cfg(test)]
    pub(crate) fn get(&self, id: u32) -> Option<i64> {
        if !self.exists.contains(id) {
            return None;
        }
        let mut u = 0u64;
        for (i, s) in self.slices.iter().enumerate() {
            if s.contains(id) {
                u |= 1 << i;
            }
        }
        Some((self.base as u64).wrapping_add(u) as i64)
    }

    pub(crate) fn set(&mut self, id: u32, v: i64) {
        if self.exists.is_empty() {
            self.base = v;
            self.max_u = 0;
            self.slices.clear();
        } else if v < self.base {
            let k = offset(self.base, v);
            self.add_to_all(k);
            self.max_u = self.max_u.saturating_add(k);
            self.base = v;
        }
        let u = offset(v, self.base);
        self.max_u = self.max_u.max(u);
        while self.slices.len() < bits_needed(u) {
            self.slices.push(RoaringBitmap::new());
        }
        for (i, s) in self.slices.iter_mut().enumerate() {
            if bit(u, i) {
                s.insert(id);
            } else {
                s.remove(id);
            }
        }
        self.exists.insert(id);
        self.trim();
    }

    pub(crate) fn remove(&mut self, id: u32) -> bool {
        if !self.exists.remove(id) {
            return false;
        }
        for s in &mut self.slices {
            s.remove(id);
        }
        if self.exists.is_empty() {
            self.slices.clear();
            self.base = 0;
            self.max_u = 0;
        } else {
            self.trim();
        }
        true
    }

    fn trim(&mut self) {
        while self.slices.last().is_some_and(RoaringBitmap::is_empty) {
            self.slices.pop();
        }
    }

    /// Add `k` to every stored offset: a ripple-carry adder over the slices. Offsets stay
    /// below 2^64 because they are differences of `i64`s.
    fn add_to_all(&mut self, k: u64) {
        let mut carry = RoaringBitmap::new();
        let mut i = 0usize;
        while i < 64 && (i < self.slices.len() || !carry.is_empty() || (k >> i) != 0) {
            if i == self.slices.len() {
                self.slices.push(RoaringBitmap::new());
            }
            let Some(b) = self.slices.get(i) else { break };
            let (sum, next) = if bit(k, i) {
                // sum = not (b xor carry), carry = b or carry (majority of b, 1, carry).
                (&self.exists - &(b ^ &carry), b | &carry)
            } else {
                (b ^ &carry, b & &carry)
            };
            if let Some(slot) = self.slices.get_mut(i) {
                *slot = sum;
            }
            carry = next;
            i += 1;
        }
        self.trim();
    }

    /// Customers (within `filter`, when given) whose value is in `lo..=hi`.
    pub(crate) fn range(&self, lo: i64, hi: i64, filter: Option<&RoaringBitmap>) -> RoaringBitmap {
        if lo > hi || hi < self.base || self.exists.is_empty() {
            return RoaringBitmap::new();
        }
        let lo_u = if lo <= self.base {
            0
        } else {
            offset(lo, self.base)
        };
        let hi_u = offset(hi, self.base);
        // Offsets fit in the slices we have, and never exceed `max_u`.
        let bits = self.slices.len();
        let cap = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let max_u = self.max_u.min(cap);
        if lo_u > max_u {
            return RoaringBitmap::new();
        }
        let start = match filter {
            Some(f) => f & &self.exists,
            None => self.exists.clone(),
        };
        match (lo_u > 0, hi_u < max_u) {
            (false, false) => start,
            (true, false) => self.ge(lo_u, start),
            (false, true) => self.le(hi_u, start),
            (true, true) if lo_u == hi_u => self.eq(lo_u, start),
            (true, true) => {
                let ge = self.ge(lo_u, start);
                self.le(hi_u, ge)
            }
        }
    }

    /// Members of `eq` (a subset of `exists`) with offset `<= c`.
    fn le(&self, c: u64, mut eq: RoaringBitmap) -> RoaringBitmap {
        // The parts are disjoint; one union at the end beats growing an accumulator.
        let mut lt = Vec::new();
        for (i, s) in self.slices.iter().enumerate().rev() {
            if eq.is_empty() {
                break;
            }
            if bit(c, i) {
                let below = &eq - s;
                if !below.is_empty() {
                    lt.push(below);
                }
                eq &= s;
            } else {
                eq -= s;
            }
        }
        lt.push(eq);
        lt.union()
    }

    /// Members of `eq` with offset `>= c`.
    fn ge(&self, c: u64, mut eq: RoaringBitmap) -> RoaringBitmap {
        let mut gt = Vec::new();
        for (i, s) in self.slices.iter().enumerate().rev() {
            if eq.is_empty() {
                break;
            }
            if bit(c, i) {
                eq &= s;
            } else {
                let above = &eq & s;
                if !above.is_empty() {
                    eq -= &above;
                    gt.push(above);
                }
            }
        }
        gt.push(eq);
        gt.union()
    }

    /// Members of `eq` with offset `== c`.
    fn eq(&self, c: u64, mut eq: RoaringBitmap) -> RoaringBitmap {
        for (i, s) in self.slices.iter().enumerate().rev() {
            if eq.is_empty() {
                break;
            }
            if bit(c, i) {
                eq &= s;
            } else {
                eq -= s;
            }
        }
        eq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn naive(values: &BTreeMap<u32, i64>, lo: i64, hi: i64) -> RoaringBitmap {
        values
            .iter()
            .filter(|(_, v)| (lo..=hi).contains(*v))
            .map(|(id, _)| *id)
            .collect()
    }

    #[test]
    fn rebases_when_a_smaller_value_arrives() {
        let mut b = Bsi::default();
        b.set(1, 100);
        b.set(2, 107);
        assert_eq!(b.slices().len(), 3);
        b.set(3, 90);
        assert_eq!(
            (b.get(1), b.get(2), b.get(3)),
            (Some(100), Some(107), Some(90))
        );
        b.set(4, i64::MIN);
        b.set(5, i64::MAX);
        assert_eq!(b.slices().len(), 64);
        assert_eq!(
            (b.get(1), b.get(4), b.get(5)),
            (Some(100), Some(i64::MIN), Some(i64::MAX))
        );
        assert_eq!(b.range(95, 101, None).iter().collect::<Vec<_>>(), vec![1]);
        assert_eq!(
            b.range(i64::MIN, i64::MIN, None).iter().collect::<Vec<_>>(),
            vec![4]
        );
        assert!(b.remove(5));
        assert_eq!(b.get(2), Some(107));
        assert!(b.range(i64::MIN + 1, i64::MAX, None).len() == 3);
        for id in 1..=4 {
            b.remove(id);
        }
        assert_eq!(b, Bsi::default());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn ranges_match_a_scan(
            ops in prop::collection::vec((0u32..40, prop_oneof![-20i64..20, any::<i64>()], any::<bool>()), 0..60),
            queries in prop::collection::vec((prop_oneof![-25i64..25, any::<i64>()], prop_oneof![-25i64..25, any::<i64>()]), 1..8),
            filter in prop::collection::btree_set(0u32..40, 0..40),
        ) {
            let mut b = Bsi::default();
            let mut values = BTreeMap::new();
            for (id, v, keep) in ops {
                if keep {
                    b.set(id, v);
                    values.insert(id, v);
                } else {
                    b.remove(id);
                    values.remove(&id);
                }
            }
            for (id, v) in &values {
                prop_assert_eq!(b.get(*id), Some(*v));
            }
            let rebuilt = Bsi::from_pairs(&values.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
            let filter: RoaringBitmap = filter.into_iter().collect();
            for (lo, hi) in queries {
                let want = naive(&values, lo, hi);
                prop_assert_eq!(&b.range(lo, hi, None), &want);
                prop_assert_eq!(&rebuilt.range(lo, hi, None), &want);
                prop_assert_eq!(b.range(lo, hi, Some(&filter)), &want & &filter);
            }
        }
    }
}
