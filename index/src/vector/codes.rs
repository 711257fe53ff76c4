//! Sign sketches: one bit per dimension, set when the vector lies above the corpus mean there.
//!
//! Sentence embeddings share a large common direction (every e5 vector has cosine 0.7–0.9 with
//! every other), so raw signs would be nearly the same for all; signs taken after subtracting
//! the mean carry the differences. The Hamming distance between two sketches orders neighbours
//! roughly as the dot product does at a seventh of its cost, so a scan of sketches can pick the
//! few hundred candidates worth scoring exactly.

/// The sketches of a set of vectors, in the set's slot order.
#[derive(Debug, Default)]
pub(super) struct Sketches {
    dim: usize,
    /// 64-bit words per sketch.
    words: usize,
    /// The mean the signs are taken against, in dequantised units.
    centre: Vec<f32>,
    /// How many vectors the centre was estimated from (0: never estimated, the centre is zero).
    centred_on: usize,
    bits: Vec<u64>,
}

impl Sketches {
    /// No sketches yet, for vectors of `dim` dimensions.
    pub(super) fn new(dim: usize) -> Self {
        Sketches {
            dim,
            words: dim.div_ceil(64),
            centre: vec![0.0; dim],
            centred_on: 0,
            bits: Vec::new(),
        }
    }

    /// The sketch of a vector given by its dimensions.
    pub(super) fn sketch(&self, values: impl Iterator<Item = f32>) -> Vec<u64> {
        let mut out = vec![0u64; self.words];
        for (i, (v, c)) in values.zip(&self.centre).enumerate() {
            if v > *c {
                out[i / 64] |= 1 << (i % 64);
            }
        }
        out
    }

    fn sketch_i8(&self, data: &[i8], scale: f32) -> Vec<u64> {
        self.sketch(data.iter().map(|x| f32::from(*x) * scale))
    }

    /// Sets the sketch of `slot` (the next new slot, or an existing one) from its int8 vector.
    pub(super) fn set(&mut self, slot: usize, data: &[i8], scale: f32) {
        let sketch = self.sketch_i8(data, scale);
        let at = slot * self.words;
        if at == self.bits.len() {
            self.bits.extend_from_slice(&sketch);
        } else {
            self.bits[at..at + self.words].copy_from_slice(&sketch);
        }
    }

    /// Moves the last sketch into `slot` and drops the last, as the set does with its vectors.
    pub(super) fn swap_remove(&mut self, slot: usize) {
        let last = self.bits.len() / self.words.max(1) - 1;
        if slot != last {
            let (head, tail) = self.bits.split_at_mut(last * self.words);
            head[slot * self.words..(slot + 1) * self.words].copy_from_slice(&tail[..self.words]);
        }
        self.bits.truncate(last * self.words);
    }

    /// True when the set has doubled since the centre was estimated (and is big enough for a
    /// mean to mean something), so that the centre should be estimated again.
    pub(super) fn stale(&self, len: usize) -> bool {
        len >= 64 && len >= self.centred_on.saturating_mul(2)
    }

    /// Estimates the centre from every vector and sketches them all again.
    pub(super) fn recentre(&mut self, data: &[i8], scales: &[f32]) {
        let mut sum = vec![0.0f64; self.dim];
        for (chunk, scale) in data.chunks_exact(self.dim).zip(scales) {
            for (s, x) in sum.iter_mut().zip(chunk) {
                *s += f64::from(f32::from(*x) * scale);
            }
        }
        let n = scales.len().max(1) as f64;
        self.centre = sum.iter().map(|s| (s / n) as f32).collect();
        self.centred_on = scales.len();
        self.bits.clear();
        for (slot, (chunk, scale)) in data.chunks_exact(self.dim).zip(scales).enumerate() {
            self.set(slot, chunk, *scale);
        }
    }

    /// Every sketch in slot order, each `words` long.
    pub(super) fn all(&self) -> std::slice::ChunksExact<'_, u64> {
        self.bits.chunks_exact(self.words.max(1))
    }
}

/// Bits that differ between two sketches.
#[inline]
pub(super) fn hamming(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_are_taken_against_the_centre() {
        let mut s = Sketches::new(3);
        // Every vector is large in dimension 0: after centring, that bit tells them apart.
        let data: Vec<i8> = vec![100, 10, -10, 120, -10, 10, 110, 0, 0];
        let scales = vec![1.0; 3];
        s.recentre(&data, &scales);
        let all: Vec<u64> = s.all().map(|w| w[0]).collect();
        assert_eq!(all, vec![0b010, 0b101, 0b000]);
        assert_eq!(hamming(&[all[0]], &[all[1]]), 3);
    }

    #[test]
    fn swap_remove_moves_the_last_sketch() {
        let mut s = Sketches::new(2);
        s.set(0, &[1, -1], 1.0);
        s.set(1, &[-1, 1], 1.0);
        s.set(2, &[1, 1], 1.0);
        s.swap_remove(0);
        let all: Vec<u64> = s.all().map(|w| w[0]).collect();
        assert_eq!(all, vec![0b11, 0b10]);
    }
}
