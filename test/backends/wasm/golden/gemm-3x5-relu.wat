(module
 (type $0 (func (param i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $gemm (param $0 i32) (param $1 i32) (param $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 v128)
  (local $6 v128)
  (local $7 v128)
  (local $8 v128)
  (local $9 v128)
  (local $10 v128)
  (local $11 v128)
  (local $12 v128)
  (local $13 v128)
  (local $14 v128)
  (local $15 v128)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 v128)
  (local $21 v128)
  (local $22 v128)
  (local $23 v128)
  (local $24 v128)
  (local $25 v128)
  (local $26 v128)
  (local $27 v128)
  (local $28 v128)
  (local $29 i32)
  (local $30 i32)
  (local $31 i32)
  (local $32 i32)
  (local $33 v128)
  (block
   (local.set $4
    (i32.const 0)
   )
   (block $tiles0
    (loop $tile1
     (br_if $tiles0
      (i32.gt_s
       (i32.add
        (local.get $4)
        (i32.const 4)
       )
       (local.get $2)
      )
     )
     (block
      (local.set $5
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $6
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
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
      (local.set $16
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $4)
         (i32.const 12)
        )
       )
      )
      (local.set $17
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 96)
        )
       )
      )
      (block $done4
       (local.set $18
        (i32.const 0)
       )
       (loop $loop5
        (br_if $done4
         (i32.ge_s
          (local.get $18)
          (i32.const 3)
         )
        )
        (local.set $13
         (v128.load
          (local.get $17)
         )
        )
        (local.set $14
         (v128.load offset=16
          (local.get $17)
         )
        )
        (local.set $15
         (v128.load32_splat
          (local.get $16)
         )
        )
        (local.set $5
         (f32x4.add
          (local.get $5)
          (f32x4.mul
           (local.get $15)
           (local.get $13)
          )
         )
        )
        (local.set $6
         (f32x4.add
          (local.get $6)
          (f32x4.mul
           (local.get $15)
           (local.get $14)
          )
         )
        )
        (local.set $15
         (v128.load32_splat offset=12
          (local.get $16)
         )
        )
        (local.set $7
         (f32x4.add
          (local.get $7)
          (f32x4.mul
           (local.get $15)
           (local.get $13)
          )
         )
        )
        (local.set $8
         (f32x4.add
          (local.get $8)
          (f32x4.mul
           (local.get $15)
           (local.get $14)
          )
         )
        )
        (local.set $15
         (v128.load32_splat offset=24
          (local.get $16)
         )
        )
        (local.set $9
         (f32x4.add
          (local.get $9)
          (f32x4.mul
           (local.get $15)
           (local.get $13)
          )
         )
        )
        (local.set $10
         (f32x4.add
          (local.get $10)
          (f32x4.mul
           (local.get $15)
           (local.get $14)
          )
         )
        )
        (local.set $15
         (v128.load32_splat offset=36
          (local.get $16)
         )
        )
        (local.set $11
         (f32x4.add
          (local.get $11)
          (f32x4.mul
           (local.get $15)
           (local.get $13)
          )
         )
        )
        (local.set $12
         (f32x4.add
          (local.get $12)
          (f32x4.mul
           (local.get $15)
           (local.get $14)
          )
         )
        )
        (local.set $16
         (i32.add
          (local.get $16)
          (i32.const 4)
         )
        )
        (local.set $17
         (i32.add
          (local.get $17)
          (i32.const 32)
         )
        )
        (local.set $18
         (i32.add
          (local.get $18)
          (i32.const 1)
         )
        )
        (br $loop5)
       )
      )
      (local.set $19
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $4)
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
       (local.get $19)
       (f32x4.max
        (f32x4.add
         (local.get $5)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $20
       (f32x4.max
        (f32x4.add
         (local.get $6)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (v128.store32_lane offset=16 0
       (local.get $19)
       (local.get $20)
      )
      (v128.store offset=20
       (local.get $19)
       (f32x4.max
        (f32x4.add
         (local.get $7)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $21
       (f32x4.max
        (f32x4.add
         (local.get $8)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (v128.store32_lane offset=36 0
       (local.get $19)
       (local.get $21)
      )
      (v128.store offset=40
       (local.get $19)
       (f32x4.max
        (f32x4.add
         (local.get $9)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $22
       (f32x4.max
        (f32x4.add
         (local.get $10)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (v128.store32_lane offset=56 0
       (local.get $19)
       (local.get $22)
      )
      (v128.store offset=60
       (local.get $19)
       (f32x4.max
        (f32x4.add
         (local.get $11)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $23
       (f32x4.max
        (f32x4.add
         (local.get $12)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (v128.store32_lane offset=76 0
       (local.get $19)
       (local.get $23)
      )
     )
     (local.set $4
      (i32.add
       (local.get $4)
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
       (local.get $4)
       (local.get $2)
      )
     )
     (block
      (local.set $24
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $25
       (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
      )
      (local.set $29
       (i32.add
        (local.get $0)
        (i32.mul
         (local.get $4)
         (i32.const 12)
        )
       )
      )
      (local.set $30
       (i32.add
        (i32.const 1024)
        (i32.mul
         (i32.const 0)
         (i32.const 96)
        )
       )
      )
      (block $done6
       (local.set $31
        (i32.const 0)
       )
       (loop $loop7
        (br_if $done6
         (i32.ge_s
          (local.get $31)
          (i32.const 3)
         )
        )
        (local.set $26
         (v128.load
          (local.get $30)
         )
        )
        (local.set $27
         (v128.load offset=16
          (local.get $30)
         )
        )
        (local.set $28
         (v128.load32_splat
          (local.get $29)
         )
        )
        (local.set $24
         (f32x4.add
          (local.get $24)
          (f32x4.mul
           (local.get $28)
           (local.get $26)
          )
         )
        )
        (local.set $25
         (f32x4.add
          (local.get $25)
          (f32x4.mul
           (local.get $28)
           (local.get $27)
          )
         )
        )
        (local.set $29
         (i32.add
          (local.get $29)
          (i32.const 4)
         )
        )
        (local.set $30
         (i32.add
          (local.get $30)
          (i32.const 32)
         )
        )
        (local.set $31
         (i32.add
          (local.get $31)
          (i32.const 1)
         )
        )
        (br $loop7)
       )
      )
      (local.set $32
       (i32.add
        (i32.add
         (local.get $1)
         (i32.mul
          (local.get $4)
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
       (local.get $32)
       (f32x4.max
        (f32x4.add
         (local.get $24)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (local.set $33
       (f32x4.max
        (f32x4.add
         (local.get $25)
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
        (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
       )
      )
      (v128.store32_lane offset=16 0
       (local.get $32)
       (local.get $33)
      )
     )
     (local.set $4
      (i32.add
       (local.get $4)
       (i32.const 1)
      )
     )
     (br $row3)
    )
   )
  )
 )
)
