//! What filters ask of each vector: its facet values (as one bitmap of slots per value, so a
//! filter is a few word-wide ORs and ANDs rather than a lookup per vector) and its TRL.

use std::collections::HashMap;

use super::VectorFilter;
use crate::doc::Facet;

/// Filter facts of every slot of a vector set.
#[derive(Debug, Default)]
pub(super) struct Facts {
    symbols: HashMap<(Facet, String), u32>,
    /// Slots holding each symbol, one bit per slot.
    bitmaps: Vec<Vec<u64>>,
    /// Each slot's symbols, to clear its bits when it changes or goes.
    tags: Vec<Vec<u32>>,
    trl: Vec<Option<u64>>,
}

/// A filter turned into slots: which may pass, and the checks bitmaps cannot hold.
pub(super) struct Allowed {
    /// `None`: no facet filter, every slot passes that part.
    slots: Option<Vec<u64>>,
    trl_min: Option<u64>,
    /// The slot of the listing never to return.
    exclude: Option<usize>,
}

fn set_bit(bits: &mut Vec<u64>, slot: usize, on: bool) {
    let word = slot / 64;
    if bits.len() <= word {
        if !on {
            return;
        }
        bits.resize(word + 1, 0);
    }
    if on {
        bits[word] |= 1 << (slot % 64);
    } else {
        bits[word] &= !(1 << (slot % 64));
    }
}

fn bit(bits: &[u64], slot: usize) -> bool {
    bits.get(slot / 64)
        .is_some_and(|w| w & (1 << (slot % 64)) != 0)
}

impl Facts {
    fn symbol(&mut self, facet: Facet, value: &str) -> u32 {
        if let Some(s) = self.symbols.get(&(facet, value.to_string())) {
            return *s;
        }
        let next = self.bitmaps.len() as u32;
        self.symbols.insert((facet, value.to_string()), next);
        self.bitmaps.push(Vec::new());
        next
    }

    /// Sets the facts of `slot` (an existing slot, or the next new one).
    pub(super) fn set(&mut self, slot: usize, facets: &[(Facet, String)], trl: Option<u64>) {
        let mut tags: Vec<u32> = facets.iter().map(|(f, v)| self.symbol(*f, v)).collect();
        tags.sort_unstable();
        tags.dedup();
        if slot == self.tags.len() {
            self.tags.push(Vec::new());
            self.trl.push(None);
        }
        for s in std::mem::take(&mut self.tags[slot]) {
            set_bit(&mut self.bitmaps[s as usize], slot, false);
        }
        for s in &tags {
            set_bit(&mut self.bitmaps[*s as usize], slot, true);
        }
        self.tags[slot] = tags;
        self.trl[slot] = trl;
    }

    /// Moves the last slot's facts into `slot` and drops the last, as the set does.
    pub(super) fn swap_remove(&mut self, slot: usize) {
        let Some(last) = self.tags.len().checked_sub(1) else {
            return;
        };
        for s in std::mem::take(&mut self.tags[slot]) {
            set_bit(&mut self.bitmaps[s as usize], slot, false);
        }
        if slot != last {
            let moved = std::mem::take(&mut self.tags[last]);
            for s in &moved {
                set_bit(&mut self.bitmaps[*s as usize], last, false);
                set_bit(&mut self.bitmaps[*s as usize], slot, true);
            }
            self.tags[slot] = moved;
            self.trl[slot] = self.trl[last];
        }
        self.tags.pop();
        self.trl.pop();
    }

    /// The slots `filter` lets through, `exclude` apart; `None` when no slot can pass (a value
    /// nobody has).
    pub(super) fn allowed(&self, filter: &VectorFilter, exclude: Option<usize>) -> Option<Allowed> {
        let words = self.tags.len().div_ceil(64);
        let mut slots: Option<Vec<u64>> = None;
        for (facet, values) in &filter.facets {
            let mut any = vec![0u64; words];
            let mut known = false;
            for v in values {
                if let Some(s) = self.symbols.get(&(*facet, v.clone())) {
                    known = true;
                    for (a, b) in any.iter_mut().zip(&self.bitmaps[*s as usize]) {
                        *a |= b;
                    }
                }
            }
            if !known {
                return None;
            }
            slots = Some(match slots {
                None => any,
                Some(mut all) => {
                    all.iter_mut().zip(&any).for_each(|(a, b)| *a &= b);
                    all
                }
            });
        }
        Some(Allowed {
            slots,
            trl_min: filter.trl_min,
            exclude,
        })
    }

    /// True when `slot` passes what `allowed` was made from.
    #[inline]
    pub(super) fn passes(&self, allowed: &Allowed, slot: usize) -> bool {
        allowed.slots.as_ref().is_none_or(|bits| bit(bits, slot))
            && allowed
                .trl_min
                .is_none_or(|min| self.trl[slot].is_some_and(|t| t >= min))
            && allowed.exclude != Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(k: &str) -> Vec<(Facet, String)> {
        vec![(Facet::Kind, k.to_string())]
    }

    fn passing(facts: &Facts, filter: &VectorFilter, n: usize) -> Vec<usize> {
        let Some(allowed) = facts.allowed(filter, None) else {
            return Vec::new();
        };
        (0..n).filter(|s| facts.passes(&allowed, *s)).collect()
    }

    #[test]
    fn bits_follow_replacements_and_removals() {
        let mut facts = Facts::default();
        for slot in 0..130 {
            let k = if slot % 2 == 0 { "need" } else { "patent" };
            facts.set(slot, &kind(k), None);
        }
        let needs = VectorFilter {
            facets: vec![(Facet::Kind, vec!["need".into()])],
            ..VectorFilter::default()
        };
        facts.set(0, &kind("patent"), None);
        // Slot 129 (a patent) moves into 2 (a need): 2 is a patent now, 129 is gone.
        facts.swap_remove(2);
        let got = passing(&facts, &needs, 129);
        assert_eq!(got.len(), 63);
        assert!(!got.contains(&0) && !got.contains(&2) && got.contains(&128));
    }

    #[test]
    fn facets_combine_with_and_values_with_or() {
        let mut facts = Facts::default();
        let at = |k: &str, p: &str| {
            vec![
                (Facet::Kind, k.to_string()),
                (Facet::Province, p.to_string()),
            ]
        };
        facts.set(0, &at("need", "HN"), Some(3));
        facts.set(1, &at("patent", "HN"), Some(6));
        facts.set(2, &at("patent", "HCM"), None);
        let filter = VectorFilter {
            facets: vec![
                (Facet::Kind, vec!["patent".into(), "research_output".into()]),
                (Facet::Province, vec!["HN".into(), "HCM".into()]),
            ],
            ..VectorFilter::default()
        };
        assert_eq!(passing(&facts, &filter, 3), [1, 2]);
        let ready = VectorFilter {
            trl_min: Some(5),
            ..filter
        };
        assert_eq!(passing(&facts, &ready, 3), [1]);
        let nobody = VectorFilter {
            facets: vec![(Facet::Province, vec!["DN".into()])],
            ..VectorFilter::default()
        };
        assert!(facts.allowed(&nobody, None).is_none());
    }
}
