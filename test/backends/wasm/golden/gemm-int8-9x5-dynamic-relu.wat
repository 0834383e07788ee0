(module
 (type $0 (func (param i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $gemm_i8 (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 f32)
  (local $9 f32)
  (local $10 i32)
  (local $11 v128)
  (local $12 i32)
  (local $13 i32)
  (local $14 v128)
  (local $15 v128)
  (local $16 i32)
  (local $17 v128)
  (local $18 v128)
  (local $19 v128)
  (local $20 v128)
  (local $21 v128)
  (local $22 v128)
  (local $23 v128)
  (local $24 v128)
  (local $25 v128)
  (local $26 v128)
  (local $27 v128)
  (local $28 i32)
  (local $29 i32)
  (local $30 i32)
  (local $31 i32)
  (local $32 v128)
  (local $33 v128)
  (local $34 v128)
  (local $35 v128)
  (local $36 v128)
  (local $37 v128)
  (local $38 v128)
  (local $39 v128)
  (local $40 i32)
  (local $41 v128)
  (local $42 v128)
  (local $43 v128)
  (local $44 v128)
  (local $45 v128)
  (local $46 i32)
  (local $47 i32)
  (local $48 i32)
  (local $49 i32)
  (local $50 v128)
  (local $51 v128)
  (local $52 i32)
  (block $done6
   (local.set $4
    (i32.const 0)
   )
   (loop $loop7
    (br_if $done6
     (i32.ge_s
      (local.get $4)
      (local.get $3)
     )
    )
    (local.set $6
     (i32.add
      (local.get $0)
      (i32.mul
       (local.get $4)
       (i32.const 36)
      )
     )
    )
    (local.set $7
     (i32.add
      (local.get $2)
      (i32.mul
       (local.get $4)
       (i32.const 48)
      )
     )
    )
    (local.set $11
     (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
    )
    (block $done0
     (local.set $13
      (i32.const 0)
     )
     (loop $loop1
      (br_if $done0
       (i32.ge_s
        (local.get $13)
        (i32.const 2)
       )
      )
      (local.set $11
       (i32x4.max_s
        (local.get $11)
        (v128.and
         (v128.load
          (i32.add
           (local.get $6)
           (i32.shl
            (local.get $13)
            (i32.const 4)
           )
          )
         )
         (i32x4.splat
          (i32.const 2147483647)
         )
        )
       )
      )
      (local.set $13
       (i32.add
        (local.get $13)
        (i32.const 1)
       )
      )
      (br $loop1)
     )
    )
    (local.set $12
     (i32x4.extract_lane 0
      (local.get $11)
     )
    )
    (local.set $12
     (select
      (i32x4.extract_lane 1
       (local.get $11)
      )
      (local.get $12)
      (i32.gt_s
       (i32x4.extract_lane 1
        (local.get $11)
       )
       (local.get $12)
      )
     )
    )
    (local.set $12
     (select
      (i32x4.extract_lane 2
       (local.get $11)
      )
      (local.get $12)
      (i32.gt_s
       (i32x4.extract_lane 2
        (local.get $11)
       )
       (local.get $12)
      )
     )
    )
    (local.set $12
     (select
      (i32x4.extract_lane 3
       (local.get $11)
      )
      (local.get $12)
      (i32.gt_s
       (i32x4.extract_lane 3
        (local.get $11)
       )
       (local.get $12)
      )
     )
    )
    (local.set $12
     (select
      (i32.and
       (i32.load offset=32
        (local.get $6)
       )
       (i32.const 2147483647)
      )
      (local.get $12)
      (i32.gt_s
       (i32.and
        (i32.load offset=32
         (local.get $6)
        )
        (i32.const 2147483647)
       )
       (local.get $12)
      )
     )
    )
    (local.set $8
     (select
      (f32.const 1)
      (f32.div
       (f32.reinterpret_i32
        (local.get $12)
       )
       (f32.const 127)
      )
      (f32.eq
       (f32.reinterpret_i32
        (local.get $12)
       )
       (f32.const 0)
      )
     )
    )
    (local.set $9
     (f32.div
      (f32.const 1)
      (local.get $8)
     )
    )
    (f32.store offset=32
     (local.get $7)
     (local.get $8)
    )
    (if
     (i32.or
      (i32.eqz
       (local.get $12)
      )
      (i32.lt_u
       (i32.sub
        (local.get $12)
        (i32.const 67108864)
       )
       (i32.const 2071986176)
      )
     )
     (then
      (block $done2
       (local.set $10
        (i32.const 0)
       )
       (loop $loop3
        (br_if $done2
         (i32.ge_s
          (local.get $10)
          (i32.const 1)
         )
        )
        (local.set $14
         (f32x4.mul
          (v128.load
           (i32.add
            (local.get $6)
            (i32.shl
             (local.get $10)
             (i32.const 5)
            )
           )
          )
          (f32x4.splat
           (local.get $9)
          )
         )
        )
        (local.set $15
         (f32x4.mul
          (v128.load offset=16
           (i32.add
            (local.get $6)
            (i32.shl
             (local.get $10)
             (i32.const 5)
            )
           )
          )
          (f32x4.splat
           (local.get $9)
          )
         )
        )
        (v128.store
         (i32.add
          (local.get $7)
          (i32.shl
           (local.get $10)
           (i32.const 4)
          )
         )
         (i16x8.narrow_i32x4_s
          (i32x4.sub
           (f32x4.add
            (local.get $14)
            (f32x4.splat
             (f32.const 12582912)
            )
           )
           (i32x4.splat
            (i32.const 1262485504)
           )
          )
          (i32x4.sub
           (f32x4.add
            (local.get $15)
            (f32x4.splat
             (f32.const 12582912)
            )
           )
           (i32x4.splat
            (i32.const 1262485504)
           )
          )
         )
        )
        (local.set $10
         (i32.add
          (local.get $10)
          (i32.const 1)
         )
        )
        (br $loop3)
       )
      )
     )
     (else
      (block $done4
       (local.set $10
        (i32.const 0)
       )
       (loop $loop5
        (br_if $done4
         (i32.ge_s
          (local.get $10)
          (i32.const 1)
         )
        )
        (local.set $14
         (f32x4.mul
          (v128.load
           (i32.add
            (local.get $6)
            (i32.shl
             (local.get $10)
             (i32.const 5)
            )
           )
          )
          (f32x4.splat
           (local.get $9)
          )
         )
        )
        (local.set $14
         (v128.and
          (local.get $14)
          (f32x4.eq
           (local.get $14)
           (local.get $14)
          )
         )
        )
        (local.set $15
         (f32x4.mul
          (v128.load offset=16
           (i32.add
            (local.get $6)
            (i32.shl
             (local.get $10)
             (i32.const 5)
            )
           )
          )
          (f32x4.splat
           (local.get $9)
          )
         )
        )
        (local.set $15
         (v128.and
          (local.get $15)
          (f32x4.eq
           (local.get $15)
           (local.get $15)
          )
         )
        )
        (v128.store
         (i32.add
          (local.get $7)
          (i32.shl
           (local.get $10)
           (i32.const 4)
          )
         )
         (i16x8.narrow_i32x4_s
          (i32x4.sub
           (f32x4.add
            (f32x4.pmin
             (f32x4.pmax
              (local.get $14)
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
          (i32x4.sub
           (f32x4.add
            (f32x4.pmin
             (f32x4.pmax
              (local.get $15)
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
        )
        (local.set $10
         (i32.add
          (local.get $10)
          (i32.const 1)
         )
        )
        (br $loop5)
       )
      )
     )
    )
    (i32.store16 offset=16
     (local.get $7)
     (i32.trunc_sat_f32_s
      (f32.min
       (f32.max
        (f32.nearest
         (f32.mul
          (f32.load offset=32
           (local.get $6)
          )
          (local.get $9)
         )
        )
        (f32.const -127)
       )
       (f32.const 127)
      )
     )
    )
    (local.set $4
     (i32.add
      (local.get $4)
      (i32.const 1)
     )
    )
    (br $loop7)
   )
  )
  (block
   (local.set $16
    (i32.const 0)
   )
   (block $tiles8
    (loop $tile9
     (br_if $tiles8
      (i32.gt_s
       (i32.add
        (local.get $16)
        (i32.const 4)
       )
       (local.get $3)
      )
     )
     (block
      (local.set $17
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $18
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $19
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $20
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $21
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $22
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $23
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $24
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $28
       (i32.add
        (local.get $2)
        (i32.mul
         (local.get $16)
         (i32.const 48)
        )
       )
      )
      (local.set $29
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 80)
        )
       )
      )
      (block $done12
       (local.set $30
        (i32.const 0)
       )
       (loop $loop13
        (br_if $done12
         (i32.ge_s
          (local.get $30)
          (i32.const 5)
         )
        )
        (local.set $25
         (v128.load8x8_s align=1
          (local.get $29)
         )
        )
        (local.set $26
         (v128.load8x8_s offset=8 align=1
          (local.get $29)
         )
        )
        (local.set $27
         (v128.load32_splat
          (local.get $28)
         )
        )
        (local.set $17
         (i32x4.add
          (local.get $17)
          (i32x4.dot_i16x8_s
           (local.get $25)
           (local.get $27)
          )
         )
        )
        (local.set $18
         (i32x4.add
          (local.get $18)
          (i32x4.dot_i16x8_s
           (local.get $26)
           (local.get $27)
          )
         )
        )
        (local.set $27
         (v128.load32_splat offset=48
          (local.get $28)
         )
        )
        (local.set $19
         (i32x4.add
          (local.get $19)
          (i32x4.dot_i16x8_s
           (local.get $25)
           (local.get $27)
          )
         )
        )
        (local.set $20
         (i32x4.add
          (local.get $20)
          (i32x4.dot_i16x8_s
           (local.get $26)
           (local.get $27)
          )
         )
        )
        (local.set $27
         (v128.load32_splat offset=96
          (local.get $28)
         )
        )
        (local.set $21
         (i32x4.add
          (local.get $21)
          (i32x4.dot_i16x8_s
           (local.get $25)
           (local.get $27)
          )
         )
        )
        (local.set $22
         (i32x4.add
          (local.get $22)
          (i32x4.dot_i16x8_s
           (local.get $26)
           (local.get $27)
          )
         )
        )
        (local.set $27
         (v128.load32_splat offset=144
          (local.get $28)
         )
        )
        (local.set $23
         (i32x4.add
          (local.get $23)
          (i32x4.dot_i16x8_s
           (local.get $25)
           (local.get $27)
          )
         )
        )
        (local.set $24
         (i32x4.add
          (local.get $24)
          (i32x4.dot_i16x8_s
           (local.get $26)
           (local.get $27)
          )
         )
        )
        (local.set $28
         (i32.add
          (local.get $28)
          (i32.const 4)
         )
        )
        (local.set $29
         (i32.add
          (local.get $29)
          (i32.const 16)
         )
        )
        (local.set $30
         (i32.add
          (local.get $30)
          (i32.const 1)
         )
        )
        (br $loop13)
       )
      )
      (local.set $31
       (i32.add
        (local.get $2)
        (i32.mul
         (local.get $16)
         (i32.const 48)
        )
       )
      )
      (local.set $32
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $17)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=32
             (local.get $31)
            )
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
      (local.set $33
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $18)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=32
             (local.get $31)
            )
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
      (local.set $34
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $19)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=80
             (local.get $31)
            )
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
      (local.set $35
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $20)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=80
             (local.get $31)
            )
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
      (local.set $36
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $21)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=128
             (local.get $31)
            )
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
      (local.set $37
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $22)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=128
             (local.get $31)
            )
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
      (local.set $38
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $23)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=176
             (local.get $31)
            )
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
      (local.set $39
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $24)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=176
             (local.get $31)
            )
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
      (local.set $40
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $16)
          (i32.const 20)
         )
        )
        (i32.mul
         (i32.const 0)
         (i32.const 32)
        )
       )
      )
      (v128.store
       (local.get $40)
       (local.get $32)
      )
      (v128.store32_lane offset=16 0
       (local.get $40)
       (local.get $33)
      )
      (v128.store offset=20
       (local.get $40)
       (local.get $34)
      )
      (v128.store32_lane offset=36 0
       (local.get $40)
       (local.get $35)
      )
      (v128.store offset=40
       (local.get $40)
       (local.get $36)
      )
      (v128.store32_lane offset=56 0
       (local.get $40)
       (local.get $37)
      )
      (v128.store offset=60
       (local.get $40)
       (local.get $38)
      )
      (v128.store32_lane offset=76 0
       (local.get $40)
       (local.get $39)
      )
     )
     (local.set $16
      (i32.add
       (local.get $16)
       (i32.const 4)
      )
     )
     (br $tile9)
    )
   )
   (block $rows10
    (loop $row11
     (br_if $rows10
      (i32.ge_s
       (local.get $16)
       (local.get $3)
      )
     )
     (block
      (local.set $41
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $42
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $46
       (i32.add
        (local.get $2)
        (i32.mul
         (local.get $16)
         (i32.const 48)
        )
       )
      )
      (local.set $47
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 80)
        )
       )
      )
      (block $done14
       (local.set $48
        (i32.const 0)
       )
       (loop $loop15
        (br_if $done14
         (i32.ge_s
          (local.get $48)
          (i32.const 5)
         )
        )
        (local.set $43
         (v128.load8x8_s align=1
          (local.get $47)
         )
        )
        (local.set $44
         (v128.load8x8_s offset=8 align=1
          (local.get $47)
         )
        )
        (local.set $45
         (v128.load32_splat
          (local.get $46)
         )
        )
        (local.set $41
         (i32x4.add
          (local.get $41)
          (i32x4.dot_i16x8_s
           (local.get $43)
           (local.get $45)
          )
         )
        )
        (local.set $42
         (i32x4.add
          (local.get $42)
          (i32x4.dot_i16x8_s
           (local.get $44)
           (local.get $45)
          )
         )
        )
        (local.set $46
         (i32.add
          (local.get $46)
          (i32.const 4)
         )
        )
        (local.set $47
         (i32.add
          (local.get $47)
          (i32.const 16)
         )
        )
        (local.set $48
         (i32.add
          (local.get $48)
          (i32.const 1)
         )
        )
        (br $loop15)
       )
      )
      (local.set $49
       (i32.add
        (local.get $2)
        (i32.mul
         (local.get $16)
         (i32.const 48)
        )
       )
      )
      (local.set $50
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $41)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=32
             (local.get $49)
            )
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
      (local.set $51
       (f32x4.max
        (f32x4.add
         (f32x4.mul
          (f32x4.convert_i32x4_s
           (local.get $42)
          )
          (f32x4.mul
           (f32x4.splat
            (f32.load offset=32
             (local.get $49)
            )
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
      (local.set $52
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $16)
          (i32.const 20)
         )
        )
        (i32.mul
         (i32.const 0)
         (i32.const 32)
        )
       )
      )
      (v128.store
       (local.get $52)
       (local.get $50)
      )
      (v128.store32_lane offset=16 0
       (local.get $52)
       (local.get $51)
      )
     )
     (local.set $16
      (i32.add
       (local.get $16)
       (i32.const 1)
      )
     )
     (br $row11)
    )
   )
  )
 )
)
