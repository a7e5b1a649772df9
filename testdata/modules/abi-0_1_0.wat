;; abi-0_1_0.wat: a minimal proxy-wasm filter that declares the older ABI 0.1.0.
;; In ABI 0.1.0, proxy_on_request_headers has no end_of_stream parameter.
;;
;; Regenerate abi-0_1_0.wasm with ./build.sh (see README.md).
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))

  (memory $memory 1)
  (global $heap_top (mut i32) (i32.const 1024))

  ;; ABI version marker: no parameters, no results.
  (func $proxy_abi_version_0_1_0)

  ;; malloc(size) -> ptr: bump allocator, no growth, no free.
  (func $malloc (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap_top))
    (global.set $heap_top (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))

  ;; proxy_on_context_create(context_id, parent_context_id)
  (func $proxy_on_context_create (param i32 i32))

  ;; proxy_on_request_headers(context_id, num_headers) -> action (0 = Continue)
  (func $proxy_on_request_headers (param i32 i32) (result i32)
    (i32.const 0))

  (export "memory" (memory $memory))
  (export "proxy_abi_version_0_1_0" (func $proxy_abi_version_0_1_0))
  (export "malloc" (func $malloc))
  (export "proxy_on_context_create" (func $proxy_on_context_create))
  (export "proxy_on_request_headers" (func $proxy_on_request_headers))
)
