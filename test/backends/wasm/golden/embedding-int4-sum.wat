(module
 (type $0 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $bags (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 v128)
  (local $11 v128)
  (local $12 v128)
  (local $13 v128)
  (local $14 v128)
  (local $15 v128)
  (local $16 v128)
  (local $17 v128)
  (local $18 v128)
  (local $19 v128)
  (local $20 i32)
  (block $done2
   (local.set $5
    (i32.const 0)
   )
   (loop $loop3
    (br_if $done2
     (i32.ge_s
      (local.get $5)
      (local.get $4)
     )
    )
    (local.set $6
     (i32.add
      (local.get $0)
      (i32.shl
       (i32.add
        (i32.mul
         (i32.const 0)
         (local.get $4)
        )
        (local.get $5)
       )
       (i32.const 2)
      )
     )
    )
    (local.set $8
     (i32.load offset=4
      (local.get $6)
     )
    )
    (local.set $10
     (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
    )
    (local.set $11
     (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
    )
    (block $done0
     (local.set $7
      (i32.load
       (local.get $6)
      )
     )
     (loop $loop1
      (br_if $done0
       (i32.ge_s
        (local.get $7)
        (local.get $8)
       )
      )
      (local.set $9
       (i32.add
        (i32.const 4096)
        (i32.mul
         (i32.load
          (i32.add
           (local.get $1)
           (i32.shl
            (local.get $7)
            (i32.const 2)
           )
          )
         )
         (i32.const 7)
        )
       )
      )
      (local.set $17
       (i32x4.extend_low_i16x8_u
        (v128.load32_zero offset=3 align=1
         (local.get $9)
        )
       )
      )
      (local.set $19
       (v128.and
        (local.get $17)
        (i32x4.splat
         (i32.const 32767)
        )
       )
      )
      (local.set $18
       (v128.or
        (v128.bitselect
         (v128.or
          (i32x4.shl
           (local.get $19)
           (i32.const 13)
          )
          (i32x4.splat
           (i32.const 2139095040)
          )
         )
         (f32x4.mul
          (i32x4.shl
           (local.get $19)
           (i32.const 13)
          )
          (f32x4.splat
           (f32.const 5192296858534827628530496e9)
          )
         )
         (i32x4.gt_s
          (local.get $19)
          (i32x4.splat
           (i32.const 31743)
          )
         )
        )
        (i32x4.shl
         (v128.and
          (local.get $17)
          (i32x4.splat
           (i32.const 32768)
          )
         )
         (i32.const 16)
        )
       )
      )
      (local.set $14
       (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3
        (local.get $18)
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $15
       (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7
        (local.get $18)
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $16
       (i32x4.splat
        (i32.load align=1
         (local.get $9)
        )
       )
      )
      (local.set $12
       (f32x4.add
        (f32x4.mul
         (f32x4.convert_i32x4_s
          (i32x4.shr_u
           (i32x4.mul
            (local.get $16)
            (v128.const i32x4 0x10000000 0x01000000 0x00100000 0x00010000)
           )
           (i32.const 28)
          )
         )
         (local.get $14)
        )
        (local.get $15)
       )
      )
      (local.set $10
       (f32x4.add
        (local.get $10)
        (local.get $12)
       )
      )
      (local.set $12
       (f32x4.add
        (f32x4.mul
         (f32x4.convert_i32x4_s
          (i32x4.shr_u
           (i32x4.mul
            (local.get $16)
            (v128.const i32x4 0x00001000 0x00000100 0x00000010 0x00000001)
           )
           (i32.const 28)
          )
         )
         (local.get $14)
        )
        (local.get $15)
       )
      )
      (local.set $11
       (f32x4.add
        (local.get $11)
        (local.get $12)
       )
      )
      (local.set $7
       (i32.add
        (local.get $7)
        (i32.const 1)
       )
      )
      (br $loop1)
     )
    )
    (local.set $20
     (i32.add
      (local.get $3)
      (i32.mul
       (local.get $5)
       (i32.const 20)
      )
     )
    )
    (v128.store
     (local.get $20)
     (local.get $10)
    )
    (v128.store32_lane offset=16 0
     (local.get $20)
     (local.get $11)
    )
    (local.set $5
     (i32.add
      (local.get $5)
      (i32.const 1)
     )
    )
    (br $loop3)
   )
  )
 )
)
