(module
 (type $0 (func (param i32 i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $interact (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 v128)
  (block $done4
   (local.set $6
    (i32.const 0)
   )
   (loop $loop5
    (br_if $done4
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
    (local.set $9
     (i32.add
      (local.get $1)
      (i32.mul
       (local.get $6)
       (i32.const 16)
      )
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
    (local.set $12
     (i32.const 2)
    )
    (block $done2
     (local.set $10
      (i32.const 1)
     )
     (loop $loop3
      (br_if $done2
       (i32.ge_s
        (local.get $10)
        (i32.const 3)
       )
      )
      (local.set $13
       (local.get $10)
      )
      (block $done0
       (local.set $11
        (i32.const 0)
       )
       (loop $loop1
        (br_if $done0
         (i32.ge_s
          (local.get $11)
          (local.get $13)
         )
        )
        (local.set $14
         (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
        )
        (local.set $14
         (f32x4.add
          (local.get $14)
          (f32x4.mul
           (v128.load32_splat
            (i32.add
             (local.get $4)
             (i32.shl
              (local.get $10)
              (i32.const 2)
             )
            )
           )
           (v128.load
            (i32.add
             (local.get $4)
             (i32.shl
              (local.get $11)
              (i32.const 2)
             )
            )
           )
          )
         )
        )
        (local.set $14
         (f32x4.add
          (local.get $14)
          (f32x4.mul
           (v128.load32_splat offset=16
            (i32.add
             (local.get $4)
             (i32.shl
              (local.get $10)
              (i32.const 2)
             )
            )
           )
           (v128.load offset=16
            (i32.add
             (local.get $4)
             (i32.shl
              (local.get $11)
              (i32.const 2)
             )
            )
           )
          )
         )
        )
        (if
         (i32.ge_s
          (i32.sub
           (local.get $13)
           (local.get $11)
          )
          (i32.const 4)
         )
         (then
          (v128.store
           (i32.add
            (local.get $7)
            (i32.shl
             (i32.add
              (local.get $12)
              (local.get $11)
             )
             (i32.const 2)
            )
           )
           (local.get $14)
          )
         )
         (else
          (if
           (i32.eqz
            (i32.sub
             (i32.sub
              (local.get $13)
              (local.get $11)
             )
             (i32.const 3)
            )
           )
           (then
            (v128.store32_lane 0
             (i32.add
              (local.get $7)
              (i32.shl
               (i32.add
                (local.get $12)
                (local.get $11)
               )
               (i32.const 2)
              )
             )
             (local.get $14)
            )
            (v128.store32_lane offset=4 1
             (i32.add
              (local.get $7)
              (i32.shl
               (i32.add
                (local.get $12)
                (local.get $11)
               )
               (i32.const 2)
              )
             )
             (local.get $14)
            )
            (v128.store32_lane offset=8 2
             (i32.add
              (local.get $7)
              (i32.shl
               (i32.add
                (local.get $12)
                (local.get $11)
               )
               (i32.const 2)
              )
             )
             (local.get $14)
            )
           )
           (else
            (if
             (i32.eqz
              (i32.sub
               (i32.sub
                (local.get $13)
                (local.get $11)
               )
               (i32.const 2)
              )
             )
             (then
              (v128.store32_lane 0
               (i32.add
                (local.get $7)
                (i32.shl
                 (i32.add
                  (local.get $12)
                  (local.get $11)
                 )
                 (i32.const 2)
                )
               )
               (local.get $14)
              )
              (v128.store32_lane offset=4 1
               (i32.add
                (local.get $7)
                (i32.shl
                 (i32.add
                  (local.get $12)
                  (local.get $11)
                 )
                 (i32.const 2)
                )
               )
               (local.get $14)
              )
             )
             (else
              (v128.store32_lane 0
               (i32.add
                (local.get $7)
                (i32.shl
                 (i32.add
                  (local.get $12)
                  (local.get $11)
                 )
                 (i32.const 2)
                )
               )
               (local.get $14)
              )
             )
            )
           )
          )
         )
        )
        (local.set $11
         (i32.add
          (local.get $11)
          (i32.const 4)
         )
        )
        (br $loop1)
       )
      )
      (local.set $12
       (i32.add
        (local.get $12)
        (local.get $13)
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
    (br $loop5)
   )
  )
 )
)
