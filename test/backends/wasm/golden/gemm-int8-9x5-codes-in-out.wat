(module
 (type $0 (func (param i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $gemm_i8 (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 v128)
  (local $8 v128)
  (local $9 v128)
  (local $10 v128)
  (local $11 v128)
  (local $12 v128)
  (local $13 v128)
  (local $14 v128)
  (local $15 v128)
  (local $16 v128)
  (local $17 v128)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 v128)
  (local $23 v128)
  (local $24 v128)
  (local $25 v128)
  (local $26 v128)
  (local $27 v128)
  (local $28 v128)
  (local $29 v128)
  (local $30 i32)
  (local $31 v128)
  (local $32 v128)
  (local $33 v128)
  (local $34 v128)
  (local $35 v128)
  (local $36 v128)
  (local $37 v128)
  (local $38 v128)
  (local $39 v128)
  (local $40 v128)
  (local $41 v128)
  (local $42 v128)
  (local $43 v128)
  (local $44 i32)
  (local $45 i32)
  (local $46 i32)
  (local $47 i32)
  (local $48 v128)
  (local $49 v128)
  (local $50 i32)
  (local $51 v128)
  (local $52 v128)
  (block
   (local.set $6
    (i32.const 0)
   )
   (block $tiles0
    (loop $tile1
     (br_if $tiles0
      (i32.gt_s
       (i32.add
        (local.get $6)
        (i32.const 4)
       )
       (local.get $3)
      )
     )
     (block
      (local.set $7
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $8
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $9
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $10
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $11
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $12
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $13
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $14
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $18
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $6)
         (i32.const 48)
        )
       )
      )
      (local.set $19
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 80)
        )
       )
      )
      (block $done4
       (local.set $20
        (i32.const 0)
       )
       (loop $loop5
        (br_if $done4
         (i32.ge_s
          (local.get $20)
          (i32.const 5)
         )
        )
        (local.set $15
         (v128.load8x8_s align=1
          (local.get $19)
         )
        )
        (local.set $16
         (v128.load8x8_s offset=8 align=1
          (local.get $19)
         )
        )
        (local.set $17
         (v128.load32_splat
          (local.get $18)
         )
        )
        (local.set $7
         (i32x4.add
          (local.get $7)
          (i32x4.dot_i16x8_s
           (local.get $15)
           (local.get $17)
          )
         )
        )
        (local.set $8
         (i32x4.add
          (local.get $8)
          (i32x4.dot_i16x8_s
           (local.get $16)
           (local.get $17)
          )
         )
        )
        (local.set $17
         (v128.load32_splat offset=48
          (local.get $18)
         )
        )
        (local.set $9
         (i32x4.add
          (local.get $9)
          (i32x4.dot_i16x8_s
           (local.get $15)
           (local.get $17)
          )
         )
        )
        (local.set $10
         (i32x4.add
          (local.get $10)
          (i32x4.dot_i16x8_s
           (local.get $16)
           (local.get $17)
          )
         )
        )
        (local.set $17
         (v128.load32_splat offset=96
          (local.get $18)
         )
        )
        (local.set $11
         (i32x4.add
          (local.get $11)
          (i32x4.dot_i16x8_s
           (local.get $15)
           (local.get $17)
          )
         )
        )
        (local.set $12
         (i32x4.add
          (local.get $12)
          (i32x4.dot_i16x8_s
           (local.get $16)
           (local.get $17)
          )
         )
        )
        (local.set $17
         (v128.load32_splat offset=144
          (local.get $18)
         )
        )
        (local.set $13
         (i32x4.add
          (local.get $13)
          (i32x4.dot_i16x8_s
           (local.get $15)
           (local.get $17)
          )
         )
        )
        (local.set $14
         (i32x4.add
          (local.get $14)
          (i32x4.dot_i16x8_s
           (local.get $16)
           (local.get $17)
          )
         )
        )
        (local.set $18
         (i32.add
          (local.get $18)
          (i32.const 4)
         )
        )
        (local.set $19
         (i32.add
          (local.get $19)
          (i32.const 16)
         )
        )
        (local.set $20
         (i32.add
          (local.get $20)
          (i32.const 1)
         )
        )
        (br $loop5)
       )
      )
      (local.set $21
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $6)
         (i32.const 48)
        )
       )
      )
      (local.set $22
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $7)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $23
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $8)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load offset=16
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load offset=16
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $24
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $9)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $25
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $10)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load offset=16
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load offset=16
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $26
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $11)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $27
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $12)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load offset=16
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load offset=16
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $28
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $13)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $29
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $14)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load offset=16
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load offset=16
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $30
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $6)
          (i32.const 32)
         )
        )
        (i32.mul
         (i32.const 0)
         (i32.const 16)
        )
       )
      )
      (local.set $31
       (f32x4.mul
        (f32x4.mul
         (local.get $22)
         (v128.load
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $31
       (v128.and
        (local.get $31)
        (f32x4.eq
         (local.get $31)
         (local.get $31)
        )
       )
      )
      (local.set $31
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $31)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (local.set $32
       (f32x4.mul
        (f32x4.mul
         (local.get $23)
         (v128.load offset=16
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $32
       (v128.and
        (local.get $32)
        (f32x4.eq
         (local.get $32)
         (local.get $32)
        )
       )
      )
      (local.set $32
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $32)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (i32.store16
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $31)
       )
      )
      (i32.store16 offset=2
       (local.get $30)
       (i32x4.extract_lane 1
        (local.get $31)
       )
      )
      (i32.store16 offset=4
       (local.get $30)
       (i32x4.extract_lane 2
        (local.get $31)
       )
      )
      (i32.store16 offset=6
       (local.get $30)
       (i32x4.extract_lane 3
        (local.get $31)
       )
      )
      (i32.store16 offset=8
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $32)
       )
      )
      (local.set $33
       (f32x4.mul
        (f32x4.mul
         (local.get $24)
         (v128.load
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $33
       (v128.and
        (local.get $33)
        (f32x4.eq
         (local.get $33)
         (local.get $33)
        )
       )
      )
      (local.set $33
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $33)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (local.set $34
       (f32x4.mul
        (f32x4.mul
         (local.get $25)
         (v128.load offset=16
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $34
       (v128.and
        (local.get $34)
        (f32x4.eq
         (local.get $34)
         (local.get $34)
        )
       )
      )
      (local.set $34
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $34)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (i32.store16 offset=32
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $33)
       )
      )
      (i32.store16 offset=34
       (local.get $30)
       (i32x4.extract_lane 1
        (local.get $33)
       )
      )
      (i32.store16 offset=36
       (local.get $30)
       (i32x4.extract_lane 2
        (local.get $33)
       )
      )
      (i32.store16 offset=38
       (local.get $30)
       (i32x4.extract_lane 3
        (local.get $33)
       )
      )
      (i32.store16 offset=40
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $34)
       )
      )
      (local.set $35
       (f32x4.mul
        (f32x4.mul
         (local.get $26)
         (v128.load
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $35
       (v128.and
        (local.get $35)
        (f32x4.eq
         (local.get $35)
         (local.get $35)
        )
       )
      )
      (local.set $35
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $35)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (local.set $36
       (f32x4.mul
        (f32x4.mul
         (local.get $27)
         (v128.load offset=16
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $36
       (v128.and
        (local.get $36)
        (f32x4.eq
         (local.get $36)
         (local.get $36)
        )
       )
      )
      (local.set $36
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $36)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (i32.store16 offset=64
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $35)
       )
      )
      (i32.store16 offset=66
       (local.get $30)
       (i32x4.extract_lane 1
        (local.get $35)
       )
      )
      (i32.store16 offset=68
       (local.get $30)
       (i32x4.extract_lane 2
        (local.get $35)
       )
      )
      (i32.store16 offset=70
       (local.get $30)
       (i32x4.extract_lane 3
        (local.get $35)
       )
      )
      (i32.store16 offset=72
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $36)
       )
      )
      (local.set $37
       (f32x4.mul
        (f32x4.mul
         (local.get $28)
         (v128.load
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $37
       (v128.and
        (local.get $37)
        (f32x4.eq
         (local.get $37)
         (local.get $37)
        )
       )
      )
      (local.set $37
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $37)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (local.set $38
       (f32x4.mul
        (f32x4.mul
         (local.get $29)
         (v128.load offset=16
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $38
       (v128.and
        (local.get $38)
        (f32x4.eq
         (local.get $38)
         (local.get $38)
        )
       )
      )
      (local.set $38
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $38)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (i32.store16 offset=96
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $37)
       )
      )
      (i32.store16 offset=98
       (local.get $30)
       (i32x4.extract_lane 1
        (local.get $37)
       )
      )
      (i32.store16 offset=100
       (local.get $30)
       (i32x4.extract_lane 2
        (local.get $37)
       )
      )
      (i32.store16 offset=102
       (local.get $30)
       (i32x4.extract_lane 3
        (local.get $37)
       )
      )
      (i32.store16 offset=104
       (local.get $30)
       (i32x4.extract_lane 0
        (local.get $38)
       )
      )
     )
     (local.set $6
      (i32.add
       (local.get $6)
       (i32.const 4)
      )
     )
     (br $tile1)
    )
   )
   (block $rows2
    (loop $row3
     (br_if $rows2
      (i32.ge_s
       (local.get $6)
       (local.get $3)
      )
     )
     (block
      (local.set $39
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $40
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $44
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $6)
         (i32.const 48)
        )
       )
      )
      (local.set $45
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 80)
        )
       )
      )
      (block $done6
       (local.set $46
        (i32.const 0)
       )
       (loop $loop7
        (br_if $done6
         (i32.ge_s
          (local.get $46)
          (i32.const 5)
         )
        )
        (local.set $41
         (v128.load8x8_s align=1
          (local.get $45)
         )
        )
        (local.set $42
         (v128.load8x8_s offset=8 align=1
          (local.get $45)
         )
        )
        (local.set $43
         (v128.load32_splat
          (local.get $44)
         )
        )
        (local.set $39
         (i32x4.add
          (local.get $39)
          (i32x4.dot_i16x8_s
           (local.get $41)
           (local.get $43)
          )
         )
        )
        (local.set $40
         (i32x4.add
          (local.get $40)
          (i32x4.dot_i16x8_s
           (local.get $42)
           (local.get $43)
          )
         )
        )
        (local.set $44
         (i32.add
          (local.get $44)
          (i32.const 4)
         )
        )
        (local.set $45
         (i32.add
          (local.get $45)
          (i32.const 16)
         )
        )
        (local.set $46
         (i32.add
          (local.get $46)
          (i32.const 1)
         )
        )
        (br $loop7)
       )
      )
      (local.set $47
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $6)
         (i32.const 48)
        )
       )
      )
      (local.set $48
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $39)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $49
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $40)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.const 0.25)
           )
           (v128.load offset=16
            (i32.add
             (i32.const 2048)
             (i32.mul
              (i32.const 0)
              (i32.const 32)
             )
            )
           )
          )
         )
         (v128.load offset=16
          (i32.add
           (i32.const 3072)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $50
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $6)
          (i32.const 32)
         )
        )
        (i32.mul
         (i32.const 0)
         (i32.const 16)
        )
       )
      )
      (local.set $51
       (f32x4.mul
        (f32x4.mul
         (local.get $48)
         (v128.load
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $51
       (v128.and
        (local.get $51)
        (f32x4.eq
         (local.get $51)
         (local.get $51)
        )
       )
      )
      (local.set $51
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $51)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (local.set $52
       (f32x4.mul
        (f32x4.mul
         (local.get $49)
         (v128.load offset=16
          (i32.add
           (i32.const 4096)
           (i32.mul
            (i32.const 0)
            (i32.const 32)
           )
          )
         )
        )
        (f32x4.splat
         (f32.const 2)
        )
       )
      )
      (local.set $52
       (v128.and
        (local.get $52)
        (f32x4.eq
         (local.get $52)
         (local.get $52)
        )
       )
      )
      (local.set $52
       (i32x4.sub
        (f32x4.add
         (f32x4.pmin
          (f32x4.pmax
           (local.get $52)
           (f32x4.splat
            (f32.const -127)
           )
          )
          (f32x4.splat
           (f32.const 127)
          )
         )
         (f32x4.splat
          (f32.const 12582912)
         )
        )
        (i32x4.splat
         (i32.const 1262485504)
        )
       )
      )
      (i32.store16
       (local.get $50)
       (i32x4.extract_lane 0
        (local.get $51)
       )
      )
      (i32.store16 offset=2
       (local.get $50)
       (i32x4.extract_lane 1
        (local.get $51)
       )
      )
      (i32.store16 offset=4
       (local.get $50)
       (i32x4.extract_lane 2
        (local.get $51)
       )
      )
      (i32.store16 offset=6
       (local.get $50)
       (i32x4.extract_lane 3
        (local.get $51)
       )
      )
      (i32.store16 offset=8
       (local.get $50)
       (i32x4.extract_lane 0
        (local.get $52)
       )
      )
     )
     (local.set $6
      (i32.add
       (local.get $6)
       (i32.const 1)
      )
     )
     (br $row3)
    )
   )
  )
 )
)
