(module
 (type $0 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536))
 (func $cross_out (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local.set $6
   (i32.sub
    (local.get $4)
    (i32.const 3)
   )
  )
  (block $done0
   (local.set $5
    (i32.const 0)
   )
   (loop $loop1
    (br_if $done0
     (i32.ge_s
      (local.get $5)
      (local.get $6)
     )
    )
    (v128.store
     (i32.add
      (local.get $3)
      (i32.shl
       (local.get $5)
       (i32.const 2)
      )
     )
     (f32x4.max
      (f32x4.add
       (f32x4.mul
        (v128.load
         (i32.add
          (local.get $0)
          (i32.shl
           (local.get $5)
           (i32.const 2)
          )
         )
        )
        (v128.load
         (i32.add
          (local.get $1)
          (i32.shl
           (local.get $5)
           (i32.const 2)
          )
         )
        )
       )
       (v128.load
        (i32.add
         (local.get $2)
         (i32.shl
          (local.get $5)
          (i32.const 2)
         )
        )
       )
      )
      (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
     )
    )
    (local.set $5
     (i32.add
      (local.get $5)
      (i32.const 4)
     )
    )
    (br $loop1)
   )
  )
  (block $tail_done2
   (loop $tail3
    (br_if $tail_done2
     (i32.ge_s
      (local.get $5)
      (local.get $4)
     )
    )
    (f32.store
     (i32.add
      (local.get $3)
      (i32.shl
       (local.get $5)
       (i32.const 2)
      )
     )
     (f32.max
      (f32.add
       (f32.mul
        (f32.load
         (i32.add
          (local.get $0)
          (i32.shl
           (local.get $5)
           (i32.const 2)
          )
         )
        )
        (f32.load
         (i32.add
          (local.get $1)
          (i32.shl
           (local.get $5)
           (i32.const 2)
          )
         )
        )
       )
       (f32.load
        (i32.add
         (local.get $2)
         (i32.shl
          (local.get $5)
          (i32.const 2)
         )
        )
       )
      )
      (f32.const 0)
     )
    )
    (local.set $5
     (i32.add
      (local.get $5)
      (i32.const 1)
     )
    )
    (br $tail3)
   )
  )
 )
)
