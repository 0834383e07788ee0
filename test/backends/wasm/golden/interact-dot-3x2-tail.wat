(module
 (type $0 (func (param i32 i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $interact (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32)
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
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (local $26 i32)
  (local $27 v128)
  (local $28 v128)
  (local $29 v128)
  (local $30 v128)
  (local $31 v128)
  (local $32 v128)
  (local $33 v128)
  (local $34 v128)
  (local $35 v128)
  (local $36 v128)
  (local $37 v128)
  (local $38 i32)
  (local $39 i32)
  (block $done14
   (local.set $6
    (i32.const 0)
   )
   (loop $loop15
    (br_if $done14
     (i32.ge_s
      (local.get $6)
      (local.get $5)
     )
    )
    (local.set $7
     (i32.add
      (local.get $3)
      (i32.mul
       (local.get $6)
       (i32.const 32)
      )
     )
    )
    (memory.copy
     (i32.add
      (local.get $7)
      (i32.const 0)
     )
     (i32.add
      (local.get $0)
      (i32.mul
       (local.get $6)
       (i32.const 8)
      )
     )
     (i32.const 8)
    )
    (local.set $8
     (i32.add
      (local.get $0)
      (i32.mul
       (local.get $6)
       (i32.const 8)
      )
     )
    )
    (local.set $9
     (i32.add
      (local.get $1)
      (i32.mul
       (local.get $6)
       (i32.const 16)
      )
     )
    )
    (f32.store
     (local.get $4)
     (f32.load
      (local.get $8)
     )
    )
    (f32.store offset=16
     (local.get $4)
     (f32.load offset=4
      (local.get $8)
     )
    )
    (f32.store offset=4
     (local.get $4)
     (f32.load
      (local.get $9)
     )
    )
    (f32.store offset=20
     (local.get $4)
     (f32.load offset=4
      (local.get $9)
     )
    )
    (f32.store offset=8
     (local.get $4)
     (f32.load offset=8
      (local.get $9)
     )
    )
    (f32.store offset=24
     (local.get $4)
     (f32.load offset=12
      (local.get $9)
     )
    )
    (local.set $20
     (i32.const 2)
    )
    (block $done10
     (local.set $18
      (i32.const 1)
     )
     (loop $loop11
      (br_if $done10
       (i32.ge_s
        (local.get $18)
        (i32.const 2)
       )
      )
      (local.set $21
       (i32.add
        (local.get $18)
        (i32.const 1)
       )
      )
      (local.set $38
       (select
        (i32.sub
         (i32.add
          (local.get $4)
          (i32.const 48)
         )
         (i32.const 8)
        )
        (local.get $7)
        (i32.eqz
         (i32.sub
          (local.get $18)
          (i32.const 1)
         )
        )
       )
      )
      (local.set $24
       (i32.and
        (i32.shr_u
         (i32.add
          (local.get $21)
          (i32.const 3)
         )
         (i32.const 2)
        )
        (i32.const 3)
       )
      )
      (local.set $23
       (i32.shr_u
        (i32.shr_u
         (i32.add
          (local.get $21)
          (i32.const 3)
         )
         (i32.const 2)
        )
        (i32.const 2)
       )
      )
      (local.set $19
       (i32.shl
        (local.get $23)
        (i32.const 4)
       )
      )
      (if
       (i32.eqz
        (i32.sub
         (local.get $24)
         (i32.const 3)
        )
       )
       (then
        (local.set $27
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $28
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $29
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $31
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $32
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $33
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $25
         (local.get $4)
        )
        (block $done0
         (local.set $26
          (i32.const 0)
         )
         (loop $loop1
          (br_if $done0
           (i32.ge_s
            (local.get $26)
            (i32.const 2)
           )
          )
          (local.set $35
           (v128.load32_splat
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $36
           (v128.load32_splat offset=4
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $37
           (v128.load
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $27
           (f32x4.add
            (local.get $27)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $31
           (f32x4.add
            (local.get $31)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $37
           (v128.load offset=16
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $28
           (f32x4.add
            (local.get $28)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $32
           (f32x4.add
            (local.get $32)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $37
           (v128.load offset=32
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $29
           (f32x4.add
            (local.get $29)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $33
           (f32x4.add
            (local.get $33)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $25
           (i32.add
            (local.get $25)
            (i32.const 16)
           )
          )
          (local.set $26
           (i32.add
            (local.get $26)
            (i32.const 1)
           )
          )
          (br $loop1)
         )
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $27)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 4)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $28)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 8)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $29)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $31)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 4)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $32)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 8)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $33)
        )
       )
      )
      (if
       (i32.eqz
        (i32.sub
         (local.get $24)
         (i32.const 2)
        )
       )
       (then
        (local.set $27
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $28
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $31
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $32
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $25
         (local.get $4)
        )
        (block $done2
         (local.set $26
          (i32.const 0)
         )
         (loop $loop3
          (br_if $done2
           (i32.ge_s
            (local.get $26)
            (i32.const 2)
           )
          )
          (local.set $35
           (v128.load32_splat
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $36
           (v128.load32_splat offset=4
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $37
           (v128.load
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $27
           (f32x4.add
            (local.get $27)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $31
           (f32x4.add
            (local.get $31)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $37
           (v128.load offset=16
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $28
           (f32x4.add
            (local.get $28)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $32
           (f32x4.add
            (local.get $32)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $25
           (i32.add
            (local.get $25)
            (i32.const 16)
           )
          )
          (local.set $26
           (i32.add
            (local.get $26)
            (i32.const 1)
           )
          )
          (br $loop3)
         )
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $27)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 4)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $28)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $31)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 4)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $32)
        )
       )
      )
      (if
       (i32.eqz
        (i32.sub
         (local.get $24)
         (i32.const 1)
        )
       )
       (then
        (local.set $27
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $31
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $25
         (local.get $4)
        )
        (block $done4
         (local.set $26
          (i32.const 0)
         )
         (loop $loop5
          (br_if $done4
           (i32.ge_s
            (local.get $26)
            (i32.const 2)
           )
          )
          (local.set $35
           (v128.load32_splat
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $36
           (v128.load32_splat offset=4
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $18)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $37
           (v128.load
            (i32.add
             (local.get $25)
             (i32.shl
              (local.get $19)
              (i32.const 2)
             )
            )
           )
          )
          (local.set $27
           (f32x4.add
            (local.get $27)
            (f32x4.mul
             (local.get $35)
             (local.get $37)
            )
           )
          )
          (local.set $31
           (f32x4.add
            (local.get $31)
            (f32x4.mul
             (local.get $36)
             (local.get $37)
            )
           )
          )
          (local.set $25
           (i32.add
            (local.get $25)
            (i32.const 16)
           )
          )
          (local.set $26
           (i32.add
            (local.get $26)
            (i32.const 1)
           )
          )
          (br $loop5)
         )
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (local.get $20)
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $27)
        )
        (v128.store
         (i32.add
          (local.get $38)
          (i32.shl
           (i32.add
            (i32.add
             (local.get $20)
             (local.get $18)
            )
            (i32.add
             (local.get $19)
             (i32.const 0)
            )
           )
           (i32.const 2)
          )
         )
         (local.get $31)
        )
       )
      )
      (block $done8
       (local.set $22
        (i32.const 0)
       )
       (loop $loop9
        (br_if $done8
         (i32.ge_s
          (local.get $22)
          (local.get $23)
         )
        )
        (local.set $19
         (i32.sub
          (local.get $19)
          (i32.const 16)
         )
        )
        (block
         (local.set $27
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $28
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $29
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $30
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $31
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $32
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $33
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $34
          (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
         )
         (local.set $25
          (local.get $4)
         )
         (block $done6
          (local.set $26
           (i32.const 0)
          )
          (loop $loop7
           (br_if $done6
            (i32.ge_s
             (local.get $26)
             (i32.const 2)
            )
           )
           (local.set $35
            (v128.load32_splat
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $18)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $36
            (v128.load32_splat offset=4
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $18)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $37
            (v128.load
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $19)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $27
            (f32x4.add
             (local.get $27)
             (f32x4.mul
              (local.get $35)
              (local.get $37)
             )
            )
           )
           (local.set $31
            (f32x4.add
             (local.get $31)
             (f32x4.mul
              (local.get $36)
              (local.get $37)
             )
            )
           )
           (local.set $37
            (v128.load offset=16
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $19)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $28
            (f32x4.add
             (local.get $28)
             (f32x4.mul
              (local.get $35)
              (local.get $37)
             )
            )
           )
           (local.set $32
            (f32x4.add
             (local.get $32)
             (f32x4.mul
              (local.get $36)
              (local.get $37)
             )
            )
           )
           (local.set $37
            (v128.load offset=32
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $19)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $29
            (f32x4.add
             (local.get $29)
             (f32x4.mul
              (local.get $35)
              (local.get $37)
             )
            )
           )
           (local.set $33
            (f32x4.add
             (local.get $33)
             (f32x4.mul
              (local.get $36)
              (local.get $37)
             )
            )
           )
           (local.set $37
            (v128.load offset=48
             (i32.add
              (local.get $25)
              (i32.shl
               (local.get $19)
               (i32.const 2)
              )
             )
            )
           )
           (local.set $30
            (f32x4.add
             (local.get $30)
             (f32x4.mul
              (local.get $35)
              (local.get $37)
             )
            )
           )
           (local.set $34
            (f32x4.add
             (local.get $34)
             (f32x4.mul
              (local.get $36)
              (local.get $37)
             )
            )
           )
           (local.set $25
            (i32.add
             (local.get $25)
             (i32.const 16)
            )
           )
           (local.set $26
            (i32.add
             (local.get $26)
             (i32.const 1)
            )
           )
           (br $loop7)
          )
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (local.get $20)
             (i32.add
              (local.get $19)
              (i32.const 0)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $27)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (local.get $20)
             (i32.add
              (local.get $19)
              (i32.const 4)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $28)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (local.get $20)
             (i32.add
              (local.get $19)
              (i32.const 8)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $29)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (local.get $20)
             (i32.add
              (local.get $19)
              (i32.const 12)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $30)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (i32.add
              (local.get $20)
              (local.get $18)
             )
             (i32.add
              (local.get $19)
              (i32.const 0)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $31)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (i32.add
              (local.get $20)
              (local.get $18)
             )
             (i32.add
              (local.get $19)
              (i32.const 4)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $32)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (i32.add
              (local.get $20)
              (local.get $18)
             )
             (i32.add
              (local.get $19)
              (i32.const 8)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $33)
         )
         (v128.store
          (i32.add
           (local.get $38)
           (i32.shl
            (i32.add
             (i32.add
              (local.get $20)
              (local.get $18)
             )
             (i32.add
              (local.get $19)
              (i32.const 12)
             )
            )
            (i32.const 2)
           )
          )
          (local.get $34)
         )
        )
        (local.set $22
         (i32.add
          (local.get $22)
          (i32.const 1)
         )
        )
        (br $loop9)
       )
      )
      (local.set $20
       (i32.add
        (local.get $20)
        (i32.add
         (i32.shl
          (local.get $18)
          (i32.const 1)
         )
         (i32.const 1)
        )
       )
      )
      (local.set $18
       (i32.add
        (local.get $18)
        (i32.const 2)
       )
      )
      (br $loop11)
     )
    )
    (block $done12
     (local.set $39
      (i32.const 0)
     )
     (loop $loop13
      (br_if $done12
       (i32.ge_s
        (local.get $39)
        (i32.const 0)
       )
      )
      (v128.store
       (i32.add
        (local.get $7)
        (i32.shl
         (i32.add
          (local.get $39)
          (i32.const 2)
         )
         (i32.const 2)
        )
       )
       (v128.load
        (i32.add
         (local.get $4)
         (i32.add
          (i32.const 48)
          (i32.shl
           (local.get $39)
           (i32.const 2)
          )
         )
        )
       )
      )
      (local.set $39
       (i32.add
        (local.get $39)
        (i32.const 4)
       )
      )
      (br $loop13)
     )
    )
    (f32.store offset=8
     (local.get $7)
     (f32.load offset=48
      (local.get $4)
     )
    )
    (f32.store offset=12
     (local.get $7)
     (f32.load offset=52
      (local.get $4)
     )
    )
    (f32.store offset=16
     (local.get $7)
     (f32.load offset=56
      (local.get $4)
     )
    )
    (memory.copy
     (i32.add
      (local.get $7)
      (i32.const 20)
     )
     (i32.add
      (local.get $2)
      (i32.mul
       (local.get $6)
       (i32.const 12)
      )
     )
     (i32.const 12)
    )
    (local.set $6
     (i32.add
      (local.get $6)
      (i32.const 1)
     )
    )
    (br $loop15)
   )
  )
 )
)
