//! Sets of customer ids as plain 64-bit words in pages of 65,536 ids (the span of one roaring
//! container), and the reading of a roaring bitmap's words: the representation the
//! bit-sliced index walks (see `bsi`).

use roaring::RoaringBitmap;

/// Words per page: 65,536 ids, the span of one roaring container.
pub(crate) const PAGE_WORDS: usize = 1024;

pub(crate) type Page = Box<[u64; PAGE_WORDS]>;

/// Page and word within it of word `w`.
pub(crate) fn page_of(w: usize) -> (usize, usize) {
    (w / PAGE_WORDS, w % PAGE_WORDS)
}

/// A set of ids as words in lazily allocated pages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits {
    pub(crate) pages: Vec<Option<Page>>,
    ones: u64,
}

impl PartialEq for Bits {
    /// Equal members; where pages happen to be allocated does not matter.
    fn eq(&self, other: &Self) -> bool {
        let n = self.pages.len().max(other.pages.len());
        self.ones == other.ones
            && (0..n).all(|p| match (self.page(p), other.page(p)) {
                (Some(a), Some(b)) => a == b,
                (Some(x), None) | (None, Some(x)) => x.iter().all(|w| *w == 0),
                (None, None) => true,
            })
    }
}

impl Bits {
    /// From pages of words (as [`filter_pages`] reads them) holding `ones` members in all.
    pub(crate) fn from_pages(pages: Vec<(usize, Page)>, ones: u64) -> Bits {
        let mut out = Bits {
            pages: Vec::new(),
            ones,
        };
        for (p, page) in pages {
            if out.pages.len() <= p {
                out.pages.resize_with(p + 1, || None);
            }
            if let Some(slot) = out.pages.get_mut(p) {
                *slot = Some(page);
            }
        }
        out
    }

    pub(crate) fn page(&self, p: usize) -> Option<&[u64; PAGE_WORDS]> {
        self.pages.get(p).and_then(|x| x.as_deref())
    }

    pub(crate) fn word(&self, w: usize) -> u64 {
        let (p, i) = page_of(w);
        self.page(p)
            .and_then(|page| page.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Replace word `w` with `value`.
    pub(crate) fn set_word(&mut self, w: usize, value: u64) {
        let (p, i) = page_of(w);
        if self.pages.len() <= p {
            if value == 0 {
                return;
            }
            self.pages.resize_with(p + 1, || None);
        }
        let Some(slot) = self.pages.get_mut(p) else {
            return;
        };
        let page = match slot {
            Some(page) => page,
            None if value == 0 => return,
            None => slot.insert(Box::new([0; PAGE_WORDS])),
        };
        if let Some(word) = page.get_mut(i) {
            self.ones = self.ones - u64::from(word.count_ones()) + u64::from(value.count_ones());
            *word = value;
        }
        if self.ones == 0 {
            self.pages.clear();
        }
    }

    pub(crate) fn set(&mut self, id: u32, on: bool) {
        let w = id as usize / 64;
        let b = 1u64 << (id % 64);
        let old = self.word(w);
        self.set_word(w, if on { old | b } else { old & !b });
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.word(id as usize / 64) & (1u64 << (id % 64)) != 0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ones == 0
    }

    /// Bytes held: the allocated pages and the page table.
    pub(crate) fn bytes(&self) -> usize {
        self.pages.iter().flatten().count() * PAGE_WORDS * 8
            + self.pages.len() * std::mem::size_of::<Option<Page>>()
    }
}

/// `f`'s members below `pages * 65,536` as pages of words (one per roaring container), read
/// from roaring's portable serialization (<https://github.com/RoaringBitmap/RoaringFormatSpec>):
/// bitmap containers are copied word for word, arrays and runs set bit by bit. `None` if the
/// bytes are not as the spec says (the caller then reads members one by one).
pub(crate) fn filter_pages(f: &RoaringBitmap, pages: usize) -> Option<Vec<(usize, Page)>> {
    const NO_RUNS: u32 = 12346;
    const WITH_RUNS: u32 = 12347;
    let mut buf = Vec::with_capacity(f.serialized_size());
    f.serialize_into(&mut buf).ok()?;
    let u16_at = |pos: usize| -> Option<u16> {
        let b = buf.get(pos..pos + 2)?;
        Some(u16::from_le_bytes([*b.first()?, *b.get(1)?]))
    };
    let u32_at = |pos: usize| -> Option<u32> {
        let b: [u8; 4] = buf.get(pos..pos + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(b))
    };
    let cookie = u32_at(0)?;
    let (size, runs, desc) = if cookie == NO_RUNS {
        (u32_at(4)? as usize, None, 8)
    } else if cookie & 0xFFFF == WITH_RUNS {
        let size = (cookie >> 16) as usize + 1;
        let run_bytes = size.div_ceil(8);
        (size, Some(buf.get(4..4 + run_bytes)?), 4 + run_bytes)
    } else {
        return None;
    };
    let has_offsets = runs.is_none() || size >= 4;
    let mut pos = desc + 4 * size + if has_offsets { 4 * size } else { 0 };
    let mut out = Vec::with_capacity(size);
    for c in 0..size {
        let key = u16_at(desc + 4 * c)? as usize;
        let card = u16_at(desc + 4 * c + 2)? as usize + 1;
        let is_run = runs.is_some_and(|r| r.get(c / 8).is_some_and(|b| b & (1 << (c % 8)) != 0));
        let mut words: Page = Box::new([0; PAGE_WORDS]);
        let mut set = |v: usize| {
            if let Some(w) = words.get_mut(v / 64) {
                *w |= 1u64 << (v % 64);
            }
        };
        if is_run {
            let n = u16_at(pos)? as usize;
            pos += 2;
            for r in 0..n {
                let start = u16_at(pos + 4 * r)? as usize;
                let len = u16_at(pos + 4 * r + 2)? as usize;
                for v in start..=start + len {
                    set(v);
                }
            }
            pos += 4 * n;
        } else if card <= 4096 {
            for j in 0..card {
                set(u16_at(pos + 2 * j)? as usize);
            }
            pos += 2 * card;
        } else {
            let src = buf.get(pos..pos + PAGE_WORDS * 8)?;
            for (d, s) in words.iter_mut().zip(src.chunks_exact(8)) {
                let b: [u8; 8] = s.try_into().ok()?;
                *d = u64::from_le_bytes(b);
            }
            pos += PAGE_WORDS * 8;
        }
        if key < pages {
            out.push((key, words));
        }
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words_by_iteration(f: &RoaringBitmap, pages: usize) -> Vec<u64> {
        let mut w = vec![0u64; pages * PAGE_WORDS];
        for id in f {
            if let Some(x) = w.get_mut(id as usize / 64) {
                *x |= 1 << (id % 64);
            }
        }
        w
    }

    /// Ids in a few 65,536-id pages, as sparse runs, dense stretches and scattered members,
    /// so the serialized form has array, bitmap and (after `optimize`) run containers.
    pub(crate) fn mixed_ids() -> impl Strategy<Value = Vec<u32>> {
        prop::collection::vec(
            prop_oneof![
                (0u32..300_000).prop_map(|a| a..a + 1),
                (0u32..300_000, 1u32..9_000).prop_map(|(a, n)| a..a + n),
                (0u32..300_000, 1u32..3_000).prop_map(|(a, n)| a..a + 2 * n),
            ],
            0..40,
        )
        .prop_map(|ranges| {
            let mut v: Vec<u32> = ranges
                .into_iter()
                .flat_map(|r| {
                    let step = 1 + (r.start % 3) as usize;
                    r.step_by(step)
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// The serialization reader gives exactly the members, cut at `pages`.
        #[test]
        fn filter_words_match_the_members(ids in mixed_ids(), runs in any::<bool>(), pages in 0usize..6) {
            let mut f: RoaringBitmap = ids.into_iter().collect();
            if runs {
                f.optimize();
            }
            let got = filter_pages(&f, pages).map(|ps| {
                let mut w = vec![0u64; pages * PAGE_WORDS];
                for (p, page) in ps {
                    if let Some(dst) = w.get_mut(p * PAGE_WORDS..(p + 1) * PAGE_WORDS) {
                        dst.copy_from_slice(&page[..]);
                    }
                }
                w
            });
            prop_assert_eq!(got, Some(words_by_iteration(&f, pages)));
        }
    }
}
