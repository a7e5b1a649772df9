;; hello.wat: a plain WASI preview 1 command module that prints "hello" and a newline.
;;
;; Regenerate hello.wasm with ./build.sh (see README.md).
(module
  ;; fd_write(fd, iovs_ptr, iovs_len, nwritten_ptr) -> errno
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))

  (memory $memory 1)

  ;; The message at offset 16.
  (data (i32.const 16) "hello\n")

  (func $_start
    ;; One iovec at offset 0: { buf = 16, buf_len = 6 }.
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    ;; Write it to stdout (fd 1); the number of bytes written goes to offset 8.
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (export "memory" (memory $memory))
  (export "_start" (func $_start))
)
