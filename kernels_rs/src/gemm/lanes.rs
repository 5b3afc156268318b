//! The few vector operations the tiled kernel needs, for each instruction set.

/// The few vector operations the tiled kernel needs, on `W` f64 lanes (`W / 2` complex
/// numbers stored re, im, re, im, ...).
pub(super) trait Lanes: Copy {
    type V: Copy;
    const W: usize;
    fn splat(self, x: f64) -> Self::V;
    /// `a * b + c` (fused where the instruction set has FMA).
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// Load `W` values; `x.len() == W`.
    fn load(self, x: &[f64]) -> Self::V;
    /// Store `W` values; `out.len() == W`.
    fn store(self, v: Self::V, out: &mut [f64]);
    /// Swap each (re, im) pair.
    fn swap_pairs(self, v: Self::V) -> Self::V;
    /// (re, im, re, im, ...)
    fn pairs(self, re: f64, im: f64) -> Self::V;
}

/// Portable fallback: 2 lanes, plain multiply and add.
#[derive(Clone, Copy)]
pub(super) struct Scalar;

impl Lanes for Scalar {
    type V = [f64; 2];
    const W: usize = 2;
    #[inline(always)]
    fn splat(self, x: f64) -> [f64; 2] {
        [x, x]
    }
    #[inline(always)]
    fn mul_add(self, a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> [f64; 2] {
        [a[0] * b[0] + c[0], a[1] * b[1] + c[1]]
    }
    #[inline(always)]
    fn mul(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        [a[0] * b[0], a[1] * b[1]]
    }
    #[inline(always)]
    fn add(self, a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
        [a[0] + b[0], a[1] + b[1]]
    }
    #[inline(always)]
    fn load(self, x: &[f64]) -> [f64; 2] {
        [x[0], x[1]]
    }
    #[inline(always)]
    fn store(self, v: [f64; 2], out: &mut [f64]) {
        out.copy_from_slice(&v)
    }
    #[inline(always)]
    fn swap_pairs(self, v: [f64; 2]) -> [f64; 2] {
        [v[1], v[0]]
    }
    #[inline(always)]
    fn pairs(self, re: f64, im: f64) -> [f64; 2] {
        [re, im]
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Lanes;
    use pulp::x86::{V3, V4};
    use pulp::{f64x4, f64x8, Simd};

    impl Lanes for V3 {
        type V = f64x4;
        const W: usize = 4;
        #[inline(always)]
        fn splat(self, x: f64) -> f64x4 {
            self.splat_f64x4(x)
        }
        #[inline(always)]
        fn mul_add(self, a: f64x4, b: f64x4, c: f64x4) -> f64x4 {
            self.mul_add_f64x4(a, b, c)
        }
        #[inline(always)]
        fn mul(self, a: f64x4, b: f64x4) -> f64x4 {
            self.mul_f64x4(a, b)
        }
        #[inline(always)]
        fn add(self, a: f64x4, b: f64x4) -> f64x4 {
            self.add_f64x4(a, b)
        }
        #[inline(always)]
        fn load(self, x: &[f64]) -> f64x4 {
            let lanes: [f64; 4] = x.try_into().expect("caller passes W values");
            pulp::cast(lanes)
        }
        #[inline(always)]
        fn store(self, v: f64x4, out: &mut [f64]) {
            let lanes: [f64; 4] = pulp::cast(v);
            out.copy_from_slice(&lanes)
        }
        #[inline(always)]
        fn swap_pairs(self, v: f64x4) -> f64x4 {
            pulp::cast(self.swap_re_im_c64s(pulp::cast(v)))
        }
        #[inline(always)]
        fn pairs(self, re: f64, im: f64) -> f64x4 {
            f64x4(re, im, re, im)
        }
    }

    impl Lanes for V4 {
        type V = f64x8;
        const W: usize = 8;
        #[inline(always)]
        fn splat(self, x: f64) -> f64x8 {
            self.splat_f64x8(x)
        }
        #[inline(always)]
        fn mul_add(self, a: f64x8, b: f64x8, c: f64x8) -> f64x8 {
            self.mul_add_f64x8(a, b, c)
        }
        #[inline(always)]
        fn mul(self, a: f64x8, b: f64x8) -> f64x8 {
            self.mul_f64x8(a, b)
        }
        #[inline(always)]
        fn add(self, a: f64x8, b: f64x8) -> f64x8 {
            self.add_f64x8(a, b)
        }
        #[inline(always)]
        fn load(self, x: &[f64]) -> f64x8 {
            let lanes: [f64; 8] = x.try_into().expect("caller passes W values");
            pulp::cast(lanes)
        }
        #[inline(always)]
        fn store(self, v: f64x8, out: &mut [f64]) {
            let lanes: [f64; 8] = pulp::cast(v);
            out.copy_from_slice(&lanes)
        }
        #[inline(always)]
        fn swap_pairs(self, v: f64x8) -> f64x8 {
            pulp::cast(self.swap_re_im_c64s(pulp::cast(v)))
        }
        #[inline(always)]
        fn pairs(self, re: f64, im: f64) -> f64x8 {
            f64x8(re, im, re, im, re, im, re, im)
        }
    }
}
