//! Near-duplicate detection: MinHash signatures over shingles of folded words, candidates by
//! banding (locality-sensitive hashing), and a similarity that forgives shortening.
//!
//! The same technology listed twice is rarely the same text: re-typed, with or without
//! diacritics, shortened, or with sentences added. Words are folded (lowercase, no diacritics,
//! `đ` → `d`), so spelling conventions meet; shingles are runs of [`SHINGLE`] words, so two
//! listings on one topic that share words but not phrasing stay apart. The similarity is the
//! share of the smaller text's shingles that the other one holds (estimated from the MinHash
//! resemblance and both shingle counts): a shortened copy or one with sentences added is as
//! similar as an exact one.

use std::collections::{HashMap, HashSet};

use crate::analysis::{folded_form, is_word_char};

/// Words per shingle.
pub const SHINGLE: usize = 3;
/// MinHash functions per signature.
pub const HASHES: usize = 128;
/// Rows (hash values) per band, `HASHES / ROWS` bands: a pair with resemblance `j` becomes a
/// candidate with probability `1 − (1 − j^2)^64` (0.93 at `j` = 0.2, where a copy cut to a
/// quarter is).
const ROWS: usize = 2;
/// Similarity from which two listings are reported as near-duplicates, unless set otherwise.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// A text's MinHash signature and its number of distinct shingles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The lowest 16 bits of each hash function's minimum (b-bit MinHash: half the memory, and
    /// a chance collision of 1 in 65,536 per value).
    mins: Box<[u16; HASHES]>,
    /// Distinct shingles in the text.
    shingles: u32,
}

/// SplitMix64: the fixed seeds of the hash functions, and the mixing of a shingle's hash.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The hash functions' multipliers (odd) and addends, from fixed seeds.
fn functions() -> &'static [(u64, u64); HASHES] {
    static FUNCTIONS: std::sync::OnceLock<[(u64, u64); HASHES]> = std::sync::OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        let mut f = [(0, 0); HASHES];
        for (i, (a, b)) in f.iter_mut().enumerate() {
            *a = mix(2 * i as u64) | 1;
            *b = mix(2 * i as u64 + 1);
        }
        f
    })
}

/// FNV-1a of a word: stable across runs and platforms.
fn word_hash(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The folded words of a text, hashed.
fn folded_words(text: &str) -> Vec<u64> {
    let mut words = Vec::new();
    let mut folded = String::new();
    for word in text
        .split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
    {
        folded_form(word, &mut folded);
        words.push(word_hash(&folded));
    }
    words
}

impl Signature {
    /// The signature of a text; `None` when it has no word.
    pub fn of(text: &str) -> Option<Signature> {
        let words = folded_words(text);
        if words.is_empty() {
            return None;
        }
        let width = SHINGLE.min(words.len());
        let shingles: HashSet<u64> = words
            .windows(width)
            .map(|w| w.iter().fold(0u64, |h, &x| mix(h ^ x)))
            .collect();
        let mut mins = [u64::MAX; HASHES];
        let functions = functions();
        for &s in &shingles {
            for (m, (a, b)) in mins.iter_mut().zip(functions.iter()) {
                // Multiply-add hashing of an already mixed value: one multiplication per
                // function (a full mix per function cost five times as much).
                let h = s.wrapping_mul(*a).wrapping_add(*b);
                if h < *m {
                    *m = h;
                }
            }
        }
        let mut low = Box::new([0u16; HASHES]);
        for (l, m) in low.iter_mut().zip(mins) {
            // The high bits: the well-mixed ones of a multiplication.
            *l = (m >> 48) as u16;
        }
        Some(Signature {
            mins: low,
            shingles: u32::try_from(shingles.len()).unwrap_or(u32::MAX),
        })
    }

    /// The estimated resemblance (Jaccard index of the two shingle sets).
    pub fn resemblance(&self, other: &Signature) -> f32 {
        let equal = self
            .mins
            .iter()
            .zip(other.mins.iter())
            .filter(|(a, b)| a == b)
            .count();
        // Correct for b-bit MinHash's chance collisions (1 in 65,536 per value).
        let chance = 1.0 / 65_536.0;
        ((equal as f32 / HASHES as f32 - chance) / (1.0 - chance)).max(0.0)
    }

    /// The estimated share of the smaller text's shingles that the other text holds, 0 to 1.
    pub fn similarity(&self, other: &Signature) -> f32 {
        let j = self.resemblance(other);
        let (a, b) = (self.shingles as f32, other.shingles as f32);
        // |A ∩ B| = J · |A ∪ B| and |A ∪ B| = |A| + |B| − |A ∩ B|.
        let shared = j * (a + b) / (1.0 + j);
        (shared / a.min(b).max(1.0)).min(1.0)
    }

    /// The number of distinct shingles.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The band keys: band number in the high bits, its rows' values in the low ones.
    fn bands(&self) -> impl Iterator<Item = u64> + '_ {
        self.mins.chunks(ROWS).enumerate().map(|(band, rows)| {
            let value = rows.iter().fold(0u64, |k, &r| (k << 16) | u64::from(r));
            ((band as u64) << 48) | value
        })
    }
}

/// Signatures of many texts by id, with their bands, for finding each one's near-duplicates.
#[derive(Debug, Default)]
pub struct DuplicateIndex {
    ids: Vec<Option<(String, Signature)>>,
    slots: HashMap<String, u32>,
    free: Vec<u32>,
    buckets: HashMap<u64, Vec<u32>>,
}

impl DuplicateIndex {
    /// An empty index.
    pub fn new() -> Self {
        DuplicateIndex::default()
    }

    /// Number of texts held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether it holds no text.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds or replaces the signature of `id`.
    pub fn insert(&mut self, id: &str, signature: Signature) {
        self.remove(id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.ids.push(None);
                u32::try_from(self.ids.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for key in signature.bands() {
            self.buckets.entry(key).or_default().push(slot);
        }
        self.ids[slot as usize] = Some((id.to_string(), signature));
        self.slots.insert(id.to_string(), slot);
    }

    /// Removes `id`, if held.
    pub fn remove(&mut self, id: &str) {
        let Some(slot) = self.slots.remove(id) else {
            return;
        };
        if let Some((_, signature)) = self.ids[slot as usize].take() {
            for key in signature.bands() {
                if let Some(bucket) = self.buckets.get_mut(&key) {
                    bucket.retain(|&s| s != slot);
                    if bucket.is_empty() {
                        self.buckets.remove(&key);
                    }
                }
            }
        }
        self.free.push(slot);
    }

    /// The signature held for `id`.
    pub fn get(&self, id: &str) -> Option<&Signature> {
        let slot = *self.slots.get(id)?;
        self.ids[slot as usize].as_ref().map(|(_, s)| s)
    }

    /// The texts at least `threshold` similar to `signature` (leaving out `except`), most
    /// similar first, ties by id.
    pub fn similar(
        &self,
        signature: &Signature,
        except: Option<&str>,
        threshold: f32,
    ) -> Vec<(String, f32)> {
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for key in signature.bands() {
            for &slot in self.buckets.get(&key).map_or(&[][..], Vec::as_slice) {
                if !seen.insert(slot) {
                    continue;
                }
                let Some((id, other)) = &self.ids[slot as usize] else {
                    continue;
                };
                if Some(id.as_str()) == except {
                    continue;
                }
                let similarity = signature.similarity(other);
                if similarity >= threshold {
                    found.push((id.clone(), similarity));
                }
            }
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found
    }

    /// The near-duplicates of a held text.
    pub fn duplicates_of(&self, id: &str, threshold: f32) -> Vec<(String, f32)> {
        match self.get(id) {
            Some(signature) => self.similar(signature, Some(id), threshold),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Quy trình tách giai đoạn ương và giai đoạn nuôi thương phẩm trong ao lót \
        bạt HDPE có mái che lưới. Nước được xử lý qua ao lắng và lọc cơ học, thay nước không quá \
        10% mỗi ngày, kết hợp siphon đáy 2 lần mỗi ngày. Kết quả thử nghiệm tại Sóc Trăng và Bạc \
        Liêu đạt năng suất 35 tấn mỗi ha mỗi vụ, tỷ lệ sống trên 80%.";

    fn sig(text: &str) -> Signature {
        Signature::of(text).expect("words")
    }

    #[test]
    fn the_same_text_without_diacritics_or_in_capitals_is_identical() {
        let a = sig(TEXT);
        assert_eq!(a.similarity(&sig(&crate::analysis::fold_text(TEXT))), 1.0);
        assert_eq!(a.similarity(&sig(&TEXT.to_uppercase())), 1.0);
    }

    #[test]
    fn shortened_or_extended_copies_stay_similar_and_other_texts_do_not() {
        let a = sig(TEXT);
        let half = &TEXT[..TEXT.find("Kết quả").unwrap()];
        assert!(
            a.similarity(&sig(half)) > 0.8,
            "{}",
            a.similarity(&sig(half))
        );
        let longer =
            format!("{TEXT} Viện chuyển giao trọn gói quy trình và tập huấn kỹ thuật viên.");
        assert!(a.similarity(&sig(&longer)) > 0.8);
        let other = "Công nghệ biofloc nuôi tôm thẻ chân trắng mật độ cao ít thay nước, \
            vi sinh vật dị dưỡng chuyển hóa chất thải thành thức ăn bổ sung cho tôm.";
        assert!(
            a.similarity(&sig(other)) < 0.2,
            "{}",
            a.similarity(&sig(other))
        );
    }

    #[test]
    fn the_index_finds_replaces_and_forgets() {
        let mut index = DuplicateIndex::new();
        index.insert("a", sig(TEXT));
        index.insert("b", sig(&crate::analysis::fold_text(TEXT)));
        index.insert(
            "c",
            sig("Máy sấy lạnh nông sản dùng bơm nhiệt, tiết kiệm điện năng."),
        );
        let found = index.duplicates_of("a", DEFAULT_THRESHOLD);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "b");
        index.insert(
            "b",
            sig("Một văn bản hoàn toàn khác về điện mặt trời áp mái."),
        );
        assert!(index.duplicates_of("a", DEFAULT_THRESHOLD).is_empty());
        index.insert("d", sig(TEXT));
        index.remove("d");
        assert!(index.duplicates_of("a", DEFAULT_THRESHOLD).is_empty());
        assert_eq!(index.len(), 3);
        assert!(Signature::of(" ,. ").is_none());
    }
}
