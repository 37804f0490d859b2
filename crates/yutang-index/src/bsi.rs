//! A bit-sliced index (O'Neil & Quass, "Improved query performance with variant indexes",
//! 1997): the range structure for integer, money and time attributes.
//!
//! Each customer's value `v` is stored as the unsigned offset `u = v - base`; slice `i` holds
//! the customers whose `u` has bit `i` set, and `exists` holds every customer with a value.
//! A range query walks the slices from the most significant bit down, keeping the customers
//! whose high bits equal the bound's so far ("ties"); a customer leaves the walk as soon as
//! one bit differs.
//!
//! The slices are plain 64-bit words in pages of 65,536 ids (one roaring container's span),
//! not roaring bitmaps. Measured at 10M customers, roaring spent most of a range in creating
//! and converting containers between the array and bitmap forms at every step (a tie set of
//! a few hundred thousand customers is exactly where that is dearest), and a slice of a time
//! or money column is half ones, where roaring holds plain words anyway. The walk here goes
//! through 4,096 ids at a time across all slices while that block is in cache, leaves the
//! block as soon as nobody in it ties with the bound, and never allocates per step; only the
//! final answer becomes a roaring bitmap. A page is allocated only where a slice has a bit,
//! so memory follows the customers that have values (8 KiB per 65,536-id block per slice).
//!
//! A filter (the customers still in play in an `and`) is read as words too: a small filter
//! member by member, a large one through roaring's portable serialization (the only way to
//! its containers' words), so a range inside a filter only touches the filter's blocks.
//!
//! Only as many slices exist as `max - base` needs. A value below `base` re-bases the column by
//! adding a constant to every stored offset, with a ripple-carry adder over the slices' words,
//! so updates never rescan customers. The base only moves down: after an outlier is removed
//! the column keeps its width until the index is rebuilt.

use roaring::{MultiOps, RoaringBitmap};

use crate::words::{Bits, PAGE_WORDS, Page, filter_pages, page_of};

/// Words walked together through every slice (4,096 ids, 36 slices ≈ 18 KiB: stays in L1/L2).
const BLOCK_WORDS: usize = 64;
/// Filters smaller than this are read member by member; larger ones through serialization.
const SMALL_FILTER: u64 = 1 << 15;
/// Pages of work (each 65,536 ids) from which a range is split over two threads.
const PARALLEL_PAGES: usize = 32;

/// One slice's page of words (`None`: no page there, all zero).
type SlicePage<'a> = Option<&'a [u64; PAGE_WORDS]>;
/// One page to walk: its index, the words of `exists` there, and the filter's words if any.
type PageWork<'a> = (usize, &'a [u64; PAGE_WORDS], Option<&'a [u64; PAGE_WORDS]>);

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Bsi {
    base: i64,
    /// An upper bound of the stored offsets (exact after a build, may be stale after
    /// removals), so a range whose top is above every value skips its upper-bound pass.
    max_u: u64,
    /// Who has a value, as roaring (for the index's set operations) and as words (the walk).
    exists: RoaringBitmap,
    ex: Bits,
    slices: Vec<Bits>,
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

/// What a walk keeps, as offsets from `base` (a side without a bound needs no pass).
#[derive(Debug, Clone, Copy)]
enum Bounds<'a> {
    Ge(u64),
    Le(u64),
    Eq(u64),
    Between(u64, u64),
    /// Equal to any of these (sorted, distinct, each at most `max_u`).
    Any(&'a [u64]),
}

impl Bsi {
    /// Build from `(id, value)` pairs, one per id, in any order.
    pub(crate) fn from_pairs(pairs: &[(u32, i64)]) -> Bsi {
        let Some(base) = pairs.iter().map(|p| p.1).min() else {
            return Bsi::default();
        };
        let max = pairs.iter().map(|p| p.1).max().unwrap_or(base);
        let bits = bits_needed(offset(max, base));
        let mut slices: Vec<Bits> = (0..bits).map(|_| Bits::default()).collect();
        let mut ex = Bits::default();
        let mut ids: Vec<u32> = Vec::with_capacity(pairs.len());
        for &(id, v) in pairs {
            ids.push(id);
            ex.set(id, true);
            let mut u = offset(v, base);
            while u != 0 {
                let i = u.trailing_zeros() as usize;
                if let Some(s) = slices.get_mut(i) {
                    s.set(id, true);
                }
                u &= u - 1;
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut exists = RoaringBitmap::new();
        exists.extend(ids);
        Bsi {
            base,
            max_u: offset(max, base),
            exists,
            ex,
            slices,
        }
    }

    pub(crate) fn exists(&self) -> &RoaringBitmap {
        &self.exists
    }

    /// Bytes held by the slices and the word copy of `exists` (not the roaring `exists`).
    pub(crate) fn word_bytes(&self) -> usize {
        self.ex.bytes() + self.slices.iter().map(Bits::bytes).sum::<usize>()
    }

    #[cfg(test)]
    pub(crate) fn slice_count(&self) -> usize {
        self.slices.len()
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
            self.slices.push(Bits::default());
        }
        for (i, s) in self.slices.iter_mut().enumerate() {
            s.set(id, bit(u, i));
        }
        self.exists.insert(id);
        self.ex.set(id, true);
        self.trim();
    }

    pub(crate) fn remove(&mut self, id: u32) -> bool {
        if !self.exists.remove(id) {
            return false;
        }
        self.ex.set(id, false);
        for s in &mut self.slices {
            s.set(id, false);
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
        while self.slices.last().is_some_and(Bits::is_empty) {
            self.slices.pop();
        }
    }

    /// Add `k` to every stored offset: a ripple-carry adder over each word of the slices.
    /// Offsets stay below 2^64 because they are differences of `i64`s.
    fn add_to_all(&mut self, k: u64) {
        let pages = self.ex.pages.len();
        for w in 0..pages * PAGE_WORDS {
            let e = self.ex.word(w);
            if e == 0 {
                continue;
            }
            let mut carry = 0u64;
            let mut i = 0usize;
            while i < 64 && (i < self.slices.len() || carry != 0 || (k >> i) != 0) {
                if i == self.slices.len() {
                    self.slices.push(Bits::default());
                }
                let Some(s) = self.slices.get_mut(i) else {
                    break;
                };
                let b = s.word(w);
                let (sum, next) = if bit(k, i) {
                    // sum = not (b xor carry), carry = b or carry (majority of b, 1, carry).
                    (e & !(b ^ carry), (b | carry) & e)
                } else {
                    (b ^ carry, b & carry)
                };
                s.set_word(w, sum);
                carry = next;
                if carry == 0 && (k >> i) <= 1 {
                    // Nothing left to add in this word: the higher slices stay as they are.
                    break;
                }
                i += 1;
            }
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
        let max_u = self.top();
        if lo_u > max_u {
            return RoaringBitmap::new();
        }
        let bounds = match (lo_u > 0, hi_u < max_u) {
            (false, false) => {
                return match filter {
                    Some(f) => f & &self.exists,
                    None => self.exists.clone(),
                };
            }
            (true, false) => Bounds::Ge(lo_u),
            (false, true) => Bounds::Le(hi_u),
            (true, true) if lo_u == hi_u => Bounds::Eq(lo_u),
            (true, true) => Bounds::Between(lo_u, hi_u),
        };
        self.query(bounds, filter)
    }

    /// Customers (within `filter`, when given) whose value is one of `values`.
    pub(crate) fn any_of(&self, values: &[i64], filter: Option<&RoaringBitmap>) -> RoaringBitmap {
        let max_u = self.top();
        let mut us: Vec<u64> = values
            .iter()
            .filter(|v| **v >= self.base)
            .map(|v| offset(*v, self.base))
            .filter(|u| *u <= max_u)
            .collect();
        us.sort_unstable();
        us.dedup();
        match us.as_slice() {
            [] => RoaringBitmap::new(),
            [one] => {
                let v = (self.base as u64).wrapping_add(*one) as i64;
                self.range(v, v, filter)
            }
            many => self.query(Bounds::Any(many), filter),
        }
    }

    /// The largest offset stored: offsets fit in the slices we have and never exceed `max_u`.
    fn top(&self) -> u64 {
        let bits = self.slices.len();
        let cap = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        self.max_u.min(cap)
    }

    /// Run a walk over the filter's members or blocks, or over everyone.
    fn query(&self, bounds: Bounds<'_>, filter: Option<&RoaringBitmap>) -> RoaringBitmap {
        if self.exists.is_empty() {
            return RoaringBitmap::new();
        }
        match filter {
            Some(f) if f.len() < SMALL_FILTER => self.range_members(bounds, f),
            Some(f) => match filter_pages(f, self.ex.pages.len()) {
                Some(pages) => self.range_words(bounds, Some(&pages)),
                None => self.range_members(bounds, f),
            },
            None => self.range_words(bounds, None),
        }
    }

    /// Every slice's page `p`, looked up once for all the words walked in it.
    fn slice_pages<'a>(&'a self, p: usize, out: &mut Vec<SlicePage<'a>>) {
        out.clear();
        out.extend(self.slices.iter().map(|s| s.page(p)));
    }

    /// The walk over a small filter: one word per run of members sharing it.
    fn range_members(&self, bounds: Bounds<'_>, f: &RoaringBitmap) -> RoaringBitmap {
        let mut out: Vec<u32> = Vec::new();
        let mut sp: Vec<SlicePage<'_>> = Vec::new();
        let mut sp_page = usize::MAX;
        let mut take = |w: usize, fw: u64| {
            let mut e = [fw & self.ex.word(w)];
            if e[0] == 0 {
                return;
            }
            let (p, i0) = page_of(w);
            if p != sp_page {
                self.slice_pages(p, &mut sp);
                sp_page = p;
            }
            walk(bounds, &sp, i0, &mut e);
            let mut r = e[0];
            while r != 0 {
                out.push((w * 64) as u32 + r.trailing_zeros());
                r &= r - 1;
            }
        };
        let mut cur: Option<(usize, u64)> = None;
        for id in f {
            let w = id as usize / 64;
            let b = 1u64 << (id % 64);
            cur = match cur {
                Some((cw, fw)) if cw == w => Some((cw, fw | b)),
                Some((cw, fw)) => {
                    take(cw, fw);
                    Some((w, b))
                }
                None => Some((w, b)),
            };
        }
        if let Some((cw, fw)) = cur {
            take(cw, fw);
        }
        let mut r = RoaringBitmap::new();
        r.extend(out);
        r
    }

    /// The walk over every page that has customers (and filter members, when given): both
    /// halves of the pages on their own thread when there are many, one bitmap per page.
    fn range_words(&self, bounds: Bounds<'_>, filter: Option<&[(usize, Page)]>) -> RoaringBitmap {
        let work: Vec<PageWork<'_>> = match filter {
            Some(f) => f
                .iter()
                .filter_map(|(p, fw)| Some((*p, self.ex.page(*p)?, Some(&**fw))))
                .collect(),
            None => (0..self.ex.pages.len())
                .filter_map(|p| Some((p, self.ex.page(p)?, None)))
                .collect(),
        };
        let mut parts = if work.len() >= PARALLEL_PAGES {
            let (first, second) = work.split_at(work.len() / 2);
            std::thread::scope(|s| {
                let other = s.spawn(|| self.walk_pages(bounds, second));
                let mut parts = self.walk_pages(bounds, first);
                // A panic cannot happen in the walk; if it ever did, redo that half here.
                parts.extend(
                    other
                        .join()
                        .unwrap_or_else(|_| self.walk_pages(bounds, second)),
                );
                parts
            })
        } else {
            self.walk_pages(bounds, &work)
        };
        match parts.len() {
            0 => RoaringBitmap::new(),
            1 => parts.pop().unwrap_or_default(),
            _ => parts.union(),
        }
    }

    /// Walk each page's blocks; one roaring bitmap per page with any result.
    fn walk_pages(&self, bounds: Bounds<'_>, work: &[PageWork<'_>]) -> Vec<RoaringBitmap> {
        let mut parts = Vec::new();
        let mut sp: Vec<SlicePage<'_>> = Vec::new();
        let mut out = [0u64; PAGE_WORDS];
        let mut bytes: Vec<u8> = Vec::with_capacity(PAGE_WORDS * 8);
        let mut e = [0u64; BLOCK_WORDS];
        for &(p, ex, fw) in work {
            self.slice_pages(p, &mut sp);
            let mut found = false;
            for (b, dst) in out.chunks_mut(BLOCK_WORDS).enumerate() {
                let span = b * BLOCK_WORDS..(b + 1) * BLOCK_WORDS;
                let exw = ex.get(span.clone()).unwrap_or(&[]);
                let mut any = 0u64;
                match fw.and_then(|f| f.get(span)) {
                    Some(fw) => {
                        for ((x, a), c) in e.iter_mut().zip(exw).zip(fw) {
                            *x = a & c;
                            any |= *x;
                        }
                    }
                    None => {
                        for (x, a) in e.iter_mut().zip(exw) {
                            *x = *a;
                            any |= *x;
                        }
                    }
                }
                if any != 0 {
                    walk(bounds, &sp, b * BLOCK_WORDS, &mut e);
                    found |= e.iter().any(|w| *w != 0);
                    dst.copy_from_slice(&e);
                } else {
                    dst.fill(0);
                }
            }
            if found {
                bytes.clear();
                for w in &out {
                    bytes.extend_from_slice(&w.to_le_bytes());
                }
                parts.push(RoaringBitmap::from_lsb0_bytes(
                    (p * PAGE_WORDS * 64) as u32,
                    &bytes,
                ));
            }
        }
        parts
    }
}

/// Narrow `e` (words from `i0` on within one page, whose slice pages are `sp`) to the
/// ids in `bounds`.
fn walk(bounds: Bounds<'_>, sp: &[SlicePage<'_>], i0: usize, e: &mut [u64]) {
    match bounds {
        Bounds::Ge(c) => narrow(c, Side::Above, sp, i0, e),
        Bounds::Le(c) => narrow(c, Side::Below, sp, i0, e),
        Bounds::Eq(c) => narrow(c, Side::Exact, sp, i0, e),
        Bounds::Between(lo, hi) => {
            narrow(lo, Side::Above, sp, i0, e);
            if e.iter().any(|w| *w != 0) {
                narrow(hi, Side::Below, sp, i0, e);
            }
        }
        Bounds::Any(cs) => {
            let mut orig = [0u64; BLOCK_WORDS];
            let mut any = [0u64; BLOCK_WORDS];
            let orig = orig.get_mut(..e.len()).unwrap_or(&mut []);
            let any = any.get_mut(..e.len()).unwrap_or(&mut []);
            orig.copy_from_slice(e);
            for &c in cs {
                e.copy_from_slice(orig);
                narrow(c, Side::Exact, sp, i0, e);
                for (a, x) in any.iter_mut().zip(e.iter()) {
                    *a |= x;
                }
            }
            e.copy_from_slice(any);
        }
    }
}

/// Which ids leave the tie with the bound into the answer.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// Offset `>= c`: those whose first differing bit is 1 where the bound has 0.
    Above,
    /// Offset `<= c`: those whose first differing bit is 0 where the bound has 1.
    Below,
    /// Offset `== c`: nobody leaves into the answer; the ties at the end are it.
    Exact,
}

const ZERO: [u64; BLOCK_WORDS] = [0; BLOCK_WORDS];

/// Narrow `e` to its members whose offset is on `side` of `c` or equal to it: walk the slices
/// from the top bit, keeping in `e` the ids that still tie with `c` and moving to the answer
/// those that leave on the wanted side; stop once nobody ties.
fn narrow(c: u64, side: Side, sp: &[SlicePage<'_>], i0: usize, e: &mut [u64]) {
    let mut out = [0u64; BLOCK_WORDS];
    let out = out.get_mut(..e.len()).unwrap_or(&mut []);
    let zero = ZERO.get(..e.len()).unwrap_or(&[]);
    for (i, s) in sp.iter().enumerate().rev() {
        let one = bit(c, i);
        // A slice without a page here is all zeros.
        let sw = s.and_then(|pg| pg.get(i0..i0 + e.len())).unwrap_or(zero);
        // The ids that keep tying have the bound's bit: `s` where it is 1, `!s` where 0.
        let flip = if one { 0 } else { !0 };
        let collect = match side {
            Side::Above => !one,
            Side::Below => one,
            Side::Exact => false,
        };
        let mut any = 0u64;
        if collect {
            for ((x, o), s) in e.iter_mut().zip(out.iter_mut()).zip(sw) {
                let keep = s ^ flip;
                *o |= *x & !keep;
                *x &= keep;
                any |= *x;
            }
        } else {
            for (x, s) in e.iter_mut().zip(sw) {
                *x &= s ^ flip;
                any |= *x;
            }
        }
        if any == 0 {
            break;
        }
    }
    for (x, o) in e.iter_mut().zip(out.iter()) {
        *x |= o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tests::mixed_ids;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn naive(values: &BTreeMap<u32, i64>, lo: i64, hi: i64) -> RoaringBitmap {
        values
            .iter()
            .filter(|(_, v)| (lo..=hi).contains(*v))
            .map(|(id, _)| *id)
            .collect()
    }

    /// `any_of` (an integer `in` list) against a scan, with and without a filter.
    fn check_in_list(
        b: &Bsi,
        values: &BTreeMap<u32, i64>,
        list: [i64; 3],
        filter: &RoaringBitmap,
    ) -> Result<(), TestCaseError> {
        let want: RoaringBitmap = values
            .iter()
            .filter(|(_, v)| list.contains(*v))
            .map(|(id, _)| *id)
            .collect();
        prop_assert_eq!(&b.any_of(&list, None), &want);
        prop_assert_eq!(b.any_of(&list, Some(filter)), &want & filter);
        Ok(())
    }

    #[test]
    fn rebases_when_a_smaller_value_arrives() {
        let mut b = Bsi::default();
        b.set(1, 100);
        b.set(2, 107);
        assert_eq!(b.slice_count(), 3);
        b.set(3, 90);
        assert_eq!(
            (b.get(1), b.get(2), b.get(3)),
            (Some(100), Some(107), Some(90))
        );
        b.set(4, i64::MIN);
        b.set(5, i64::MAX);
        assert_eq!(b.slice_count(), 64);
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

    #[test]
    fn a_large_filter_takes_the_word_path_and_matches_a_scan() {
        // 40 pages of 65,536 ids: enough for the two-thread split.
        let values: BTreeMap<u32, i64> = (0u32..40 * 65_536)
            .step_by(11)
            .filter(|id| id % 7 != 3)
            .map(|id| (id, i64::from(id % 1_000) * 1_000_003 - 400_000_000))
            .collect();
        let b = Bsi::from_pairs(&values.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        let filter: RoaringBitmap = (0u32..3_000_000).step_by(2).collect();
        assert!(filter.len() >= SMALL_FILTER);
        assert!(b.ex.pages.len() >= PARALLEL_PAGES);
        for (lo, hi) in [
            (0, i64::MAX),
            (i64::MIN, -1),
            (-200_000_000, 300_000_000),
            (3 * 1_000_003 - 400_000_000, 3 * 1_000_003 - 400_000_000),
        ] {
            let want = naive(&values, lo, hi);
            assert_eq!(b.range(lo, hi, Some(&filter)), &want & &filter);
            assert_eq!(b.range(lo, hi, None), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Ranges inside filters big enough for the word path (and small ones) match a scan.
        #[test]
        fn ranges_in_large_filters_match_a_scan(
            ids in mixed_ids(),
            filter in mixed_ids(),
            seed in any::<u64>(),
            queries in prop::collection::vec((-5i64..70, -5i64..70), 1..5),
        ) {
            // Values from a cheap hash of the id: 0..64, so six slices and every bound shape.
            let values: BTreeMap<u32, i64> = ids
                .iter()
                .map(|id| (*id, ((u64::from(*id) ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as i64))
                .collect();
            let b = Bsi::from_pairs(&values.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
            let filter: RoaringBitmap = filter.into_iter().collect();
            for (lo, hi) in queries {
                let want = naive(&values, lo, hi);
                prop_assert_eq!(&b.range(lo, hi, None), &want);
                prop_assert_eq!(b.range(lo, hi, Some(&filter)), &want & &filter);
                check_in_list(&b, &values, [lo, hi, lo / 2 + hi / 2], &filter)?;
            }
        }
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
                check_in_list(&b, &values, [lo, hi, lo / 2 + hi / 2], &filter)?;
                check_in_list(&rebuilt, &values, [lo, hi, lo / 2 + hi / 2], &filter)?;
            }
        }
    }
}
