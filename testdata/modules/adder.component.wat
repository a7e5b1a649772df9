;; adder.component.wat: a small WebAssembly component (component model).
;;
;; It imports the instance `wasi:cli/environment@0.2.0` with one function,
;;   get-arguments: func() -> list<string>
;; lowers it into its core module (with a memory and a realloc, as the canonical ABI
;; requires for a list<string> result), and exports one lifted function,
;;   add: func(a: u32, b: u32) -> u32
;;
;; Regenerate adder.component.wasm with ./build.sh (see README.md).
(component
  (import "wasi:cli/environment@0.2.0" (instance $environment
    (export "get-arguments" (func (result (list string))))))

  ;; Core module that owns the linear memory and the canonical-ABI realloc.
  (core module $Libc
    (memory (export "memory") 1)
    (global $heap_top (mut i32) (i32.const 1024))
    ;; cabi_realloc(old_ptr, old_size, align, new_size) -> ptr: bump allocator.
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $heap_top) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap_top (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $Libc))

  ;; get-arguments lowered: the list<string> result is written through a return pointer.
  (core func $get-arguments
    (canon lower (func $environment "get-arguments")
      (memory (core memory $libc "memory")) (realloc (core func $libc "cabi_realloc"))))

  (core module $Adder
    (import "wasi:cli/environment@0.2.0" "get-arguments" (func (param i32)))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
  (core instance $adder (instantiate $Adder
    (with "wasi:cli/environment@0.2.0" (instance
      (export "get-arguments" (func $get-arguments))))))

  (func $add (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $adder "add")))
  (export "add" (func $add))
)
