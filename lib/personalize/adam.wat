;; torch.optim.Adam's update (no weight decay, no amsgrad) over flat float32 buffers, in the order torch's
;; single-tensor Adam rounds it (exp_avg.lerp_, exp_avg_sq.mul_().addcmul_(), denom = sqrt(v)/sqrt(bc2) + eps,
;; param.addcdiv_). Four lanes at a time, then a scalar tail with the same operations, so every element gets
;; exactly the same float32 results whatever its position. Buffers are byte offsets in a 64-bit memory.
(module
  (import "env" "memory" (memory i64 1))
  (func (export "adam")
    (param $p i64) (param $m i64) (param $v i64) (param $g i64) (param $n i64)
    (param $one_minus_beta1 f32) (param $beta2 f32) (param $one_minus_beta2 f32)
    (param $bc2_sqrt f32) (param $eps f32) (param $neg_step_size f32)
    (local $i i64) (local $vec_end i64) (local $end i64)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $k_b1 v128) (local $k_b2 v128) (local $k_ob2 v128) (local $k_bc v128) (local $k_eps v128) (local $k_ns v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $k_b1 (f32x4.splat (local.get $one_minus_beta1)))
    (local.set $k_b2 (f32x4.splat (local.get $beta2)))
    (local.set $k_ob2 (f32x4.splat (local.get $one_minus_beta2)))
    (local.set $k_bc (f32x4.splat (local.get $bc2_sqrt)))
    (local.set $k_eps (f32x4.splat (local.get $eps)))
    (local.set $k_ns (f32x4.splat (local.get $neg_step_size)))
    (local.set $end (i64.shl (local.get $n) (i64.const 2)))
    (local.set $vec_end (i64.and (local.get $end) (i64.const -16)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i64.ge_u (local.get $i) (local.get $vec_end)))
        (local.set $gv (v128.load (i64.add (local.get $g) (local.get $i))))
        (local.set $mv (v128.load (i64.add (local.get $m) (local.get $i))))
        (local.set $vv (v128.load (i64.add (local.get $v) (local.get $i))))
        ;; m = m + (g - m) * (1 - beta1)
        (local.set $mv
          (f32x4.add (local.get $mv) (f32x4.mul (f32x4.sub (local.get $gv) (local.get $mv)) (local.get $k_b1))))
        ;; v = v * beta2 + (g * g) * (1 - beta2)
        (local.set $vv
          (f32x4.add (f32x4.mul (local.get $vv) (local.get $k_b2))
                     (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $k_ob2))))
        (v128.store (i64.add (local.get $m) (local.get $i)) (local.get $mv))
        (v128.store (i64.add (local.get $v) (local.get $i)) (local.get $vv))
        ;; p = p + (m / (sqrt(v) / sqrt(bc2) + eps)) * (-lr / bc1)
        (v128.store (i64.add (local.get $p) (local.get $i))
          (f32x4.add
            (v128.load (i64.add (local.get $p) (local.get $i)))
            (f32x4.mul
              (f32x4.div (local.get $mv)
                         (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vv)) (local.get $k_bc)) (local.get $k_eps)))
              (local.get $k_ns))))
        (local.set $i (i64.add (local.get $i) (i64.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i64.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i64.add (local.get $g) (local.get $i))))
        (local.set $ms (f32.load (i64.add (local.get $m) (local.get $i))))
        (local.set $vs (f32.load (i64.add (local.get $v) (local.get $i))))
        (local.set $ms
          (f32.add (local.get $ms) (f32.mul (f32.sub (local.get $gs) (local.get $ms)) (local.get $one_minus_beta1))))
        (local.set $vs
          (f32.add (f32.mul (local.get $vs) (local.get $beta2))
                   (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $one_minus_beta2))))
        (f32.store (i64.add (local.get $m) (local.get $i)) (local.get $ms))
        (f32.store (i64.add (local.get $v) (local.get $i)) (local.get $vs))
        (f32.store (i64.add (local.get $p) (local.get $i))
          (f32.add
            (f32.load (i64.add (local.get $p) (local.get $i)))
            (f32.mul
              (f32.div (local.get $ms)
                       (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $bc2_sqrt)) (local.get $eps)))
              (local.get $neg_step_size))))
        (local.set $i (i64.add (local.get $i) (i64.const 4)))
        (br $tail)))
  )
)
