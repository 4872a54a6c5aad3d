;; The filter bank's inner loop: eight Goertzel recursions as two f32x4 vectors (low group,
;; high group), so one sample costs a handful of vector operations instead of 24 scalar ones
;; whose state the JIT spills. An instance's memory holds the shared turn table and the regions
;; of many filter banks (kernel-pool.ts hands them out); every call names its bank's `base`.
;; Assembled into goertzel-kernel.ts by scripts/build-wasm.ts; test/dsp/goertzel-kernel.test.ts
;; checks that the two agree and that the kernel matches a double-precision Goertzel.
;;
;; Memory layout (byte offsets, shared with kernel-pool.ts and filter-bank.ts):
;;     0  cos and sin of the nominal turn −ωB·b per (b % 200, bin), f32 × 2 × 200 × 8
;; 16384  bank regions of 12 KiB each, laid out from their base as:
;;     0  2cos ω per bin, f32 × 8 (low group, then high group)
;;    32  cos ω per bin, f32 × 8
;;    64  sin ω per bin, f32 × 8
;;    96  s1 per bin, f32 × 8 (the block so far)
;;   128  s2 per bin, f32 × 8
;;   160  Σx² of the block so far, f64
;;   256  running sum of the turned-back values since the stream began, re then im, f64 × 2 × 8
;;  1024  real part per (slot, bin), f64 × 32 × 8
;;  3072  imaginary part per (slot, bin), f64 × 32 × 8
;;  5120  Σx² per slot, f64 × 32
;;  6144  running sum reached at each block (prefix sums), real part per (slot, bin), f64 × 32 × 8
;;  8192  the same, imaginary part
;; 10240  staged input samples, i16 × 1024
(module
  (memory (export "memory") 16)

  ;; Runs the bank's staged input[from, from + count) through its recursions. With slot ≥ 0 the
  ;; block is complete: its value y = s1 − e^{−jω}·s2 per bin, turned back by the nominal turn of
  ;; block `turn` (its index % 200), and its energy go to that history slot, and the state restarts.
  (func (export "feed") (param $base i32) (param $from i32) (param $count i32) (param $slot i32) (param $turn i32)
    (local $at i32) (local $end i32)
    (local $x f64) (local $xv v128) (local $next v128)
    (local $coefLow v128) (local $coefHigh v128)
    (local $s1Low v128) (local $s1High v128) (local $s2Low v128) (local $s2High v128)
    (local $energy f64) (local $turnAt i32)
    (local.set $coefLow (v128.load (local.get $base)))
    (local.set $coefHigh (v128.load offset=16 (local.get $base)))
    (local.set $s1Low (v128.load offset=96 (local.get $base)))
    (local.set $s1High (v128.load offset=112 (local.get $base)))
    (local.set $s2Low (v128.load offset=128 (local.get $base)))
    (local.set $s2High (v128.load offset=144 (local.get $base)))
    (local.set $energy (f64.load offset=160 (local.get $base)))
    (local.set $at (i32.add (i32.add (local.get $base) (i32.const 10240)) (i32.shl (local.get $from) (i32.const 1))))
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $count) (i32.const 1))))
    (block $done
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (loop $sample
        (local.set $x (f64.convert_i32_s (i32.load16_s (local.get $at))))
        (local.set $energy (f64.add (local.get $energy) (f64.mul (local.get $x) (local.get $x))))
        (local.set $xv (f32x4.splat (f32.demote_f64 (local.get $x))))
        ;; s0 = 2cos ω · s1 + (x − s2): the subtraction does not wait for the previous sample.
        (local.set $next (f32x4.add (f32x4.mul (local.get $coefLow) (local.get $s1Low)) (f32x4.sub (local.get $xv) (local.get $s2Low))))
        (local.set $s2Low (local.get $s1Low))
        (local.set $s1Low (local.get $next))
        (local.set $next (f32x4.add (f32x4.mul (local.get $coefHigh) (local.get $s1High)) (f32x4.sub (local.get $xv) (local.get $s2High))))
        (local.set $s2High (local.get $s1High))
        (local.set $s1High (local.get $next))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (br_if $sample (i32.lt_u (local.get $at) (local.get $end)))))
    (if (i32.lt_s (local.get $slot) (i32.const 0))
      (then
        (v128.store offset=96 (local.get $base) (local.get $s1Low))
        (v128.store offset=112 (local.get $base) (local.get $s1High))
        (v128.store offset=128 (local.get $base) (local.get $s2Low))
        (v128.store offset=144 (local.get $base) (local.get $s2High))
        (f64.store offset=160 (local.get $base) (local.get $energy))
        (return)))
    (local.set $turnAt (i32.shl (local.get $turn) (i32.const 6)))
    (call $storeGroup (local.get $base) (local.get $slot) (i32.const 0) (local.get $turnAt)
      (f32x4.sub (local.get $s1Low) (f32x4.mul (local.get $s2Low) (v128.load offset=32 (local.get $base))))
      (f32x4.mul (local.get $s2Low) (v128.load offset=64 (local.get $base))))
    (call $storeGroup (local.get $base) (local.get $slot) (i32.const 4) (i32.add (local.get $turnAt) (i32.const 16))
      (f32x4.sub (local.get $s1High) (f32x4.mul (local.get $s2High) (v128.load offset=48 (local.get $base))))
      (f32x4.mul (local.get $s2High) (v128.load offset=80 (local.get $base))))
    (f64.store offset=5120 (i32.add (local.get $base) (i32.shl (local.get $slot) (i32.const 3))) (local.get $energy))
    (v128.store offset=96 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=112 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=128 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=144 (local.get $base) (v128.const i64x2 0 0))
    (f64.store offset=160 (local.get $base) (f64.const 0)))

  ;; Turns four bins' values back by the cos/sin pairs at `turnAt` (cos at turnAt, sin 32 bytes
  ;; on), widens them to f64 and stores them, and the running sums they reach, at (slot, firstBin).
  (func $storeGroup (param $base i32) (param $slot i32) (param $firstBin i32) (param $turnAt i32) (param $y v128) (param $yi v128)
    (local $at i32) (local $sumAt i32) (local $cos v128) (local $sin v128) (local $re v128) (local $im v128)
    (local.set $cos (v128.load (local.get $turnAt)))
    (local.set $sin (v128.load offset=32 (local.get $turnAt)))
    (local.set $re (f32x4.sub (f32x4.mul (local.get $y) (local.get $cos)) (f32x4.mul (local.get $yi) (local.get $sin))))
    (local.set $im (f32x4.add (f32x4.mul (local.get $y) (local.get $sin)) (f32x4.mul (local.get $yi) (local.get $cos))))
    (local.set $at (i32.add (local.get $base) (i32.shl (i32.add (i32.shl (local.get $slot) (i32.const 3)) (local.get $firstBin)) (i32.const 3))))
    (local.set $sumAt (i32.add (local.get $base) (i32.shl (local.get $firstBin) (i32.const 3))))
    (call $storeValue (i32.add (local.get $at) (i32.const 1024)) (i32.add (local.get $sumAt) (i32.const 256))
      (f64x2.promote_low_f32x4 (local.get $re)))
    (call $storeValue (i32.add (local.get $at) (i32.const 1040)) (i32.add (local.get $sumAt) (i32.const 272))
      (f64x2.promote_low_f32x4 (call $upperHalf (local.get $re))))
    (call $storeValue (i32.add (local.get $at) (i32.const 3072)) (i32.add (local.get $sumAt) (i32.const 320))
      (f64x2.promote_low_f32x4 (local.get $im)))
    (call $storeValue (i32.add (local.get $at) (i32.const 3088)) (i32.add (local.get $sumAt) (i32.const 336))
      (f64x2.promote_low_f32x4 (call $upperHalf (local.get $im)))))

  ;; Stores two bins' values at `at` (in the re or im history), adds them to their running sums at
  ;; `sumAt` and stores those in the matching prefix-sum history, 5120 bytes further on.
  (func $storeValue (param $at i32) (param $sumAt i32) (param $value v128)
    (local $sum v128)
    (v128.store (local.get $at) (local.get $value))
    (local.set $sum (f64x2.add (v128.load (local.get $sumAt)) (local.get $value)))
    (v128.store (local.get $sumAt) (local.get $sum))
    (v128.store offset=5120 (local.get $at) (local.get $sum)))

  (func $upperHalf (param $v v128) (result v128)
    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
)
