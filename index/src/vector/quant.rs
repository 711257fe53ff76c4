//! int8 quantisation of unit vectors and the integer dot product the exact scan uses.

/// A vector quantised to int8: `value[i] ≈ data[i] as f32 * scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    /// Multiplier back to the original values.
    pub scale: f32,
    /// One signed byte per dimension.
    pub data: Vec<i8>,
}

/// Quantises `v` symmetrically: the largest magnitude maps to 127.
pub fn quantize(v: &[f32]) -> Quantized {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || v.iter().any(|x| !x.is_finite()) {
        return Quantized {
            scale: 0.0,
            data: vec![0; v.len()],
        };
    }
    let scale = max / 127.0;
    let data = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    Quantized { scale, data }
}

/// Scales `v` to unit length (left as is when it is all zeros).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Lanes summed side by side: fixed-size blocks let the compiler use packed multiply-adds.
const LANES: usize = 32;

/// The dot product of two int8 vectors of the same length.
pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; LANES];
    let (blocks_a, blocks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: i32 = blocks_a
        .remainder()
        .iter()
        .zip(blocks_b.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    for (x, y) in blocks_a.zip(blocks_b) {
        for i in 0..LANES {
            // i8 × i8 fits in i16; the sum of two such products still does.
            acc[i] += i32::from(i16::from(x[i]) * i16::from(y[i]));
        }
    }
    acc.iter().sum::<i32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantisation_keeps_values_within_half_a_step() {
        let v = [0.5, -0.25, 0.125, 0.0, -0.5];
        let q = quantize(&v);
        for (x, b) in v.iter().zip(&q.data) {
            assert!((x - f32::from(*b) * q.scale).abs() <= q.scale / 2.0 + 1e-6);
        }
        assert_eq!(q.data[0], 127);
        assert_eq!(q.data[4], -127);
    }

    #[test]
    fn zero_and_non_finite_vectors_quantise_to_zero() {
        assert_eq!(quantize(&[0.0, 0.0]).data, vec![0, 0]);
        assert_eq!(quantize(&[f32::NAN, 1.0]).scale, 0.0);
    }

    #[test]
    fn the_blocked_dot_product_equals_the_plain_one() {
        let a: Vec<i8> = (0..100).map(|i| (i * 37 % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..100).map(|i| (i * 91 % 255 - 127) as i8).collect();
        let plain: i32 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        assert_eq!(dot_i8(&a, &b), plain);
    }
}
