;; two-markers.wat: a proxy-wasm filter that exports two ABI version markers,
;; proxy_abi_version_0_2_0 first and proxy_abi_version_0_2_1 second (export order
;; in the binary follows the order below). A host that returns the first marker
;; it meets in export order sees 0.2.0.
;;
;; Regenerate two-markers.wasm with ./build.sh (see README.md).
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))

  (memory $memory 1)
  (global $heap_top (mut i32) (i32.const 1024))

  ;; ABI version markers: no parameters, no results.
  (func $proxy_abi_version_0_2_0)
  (func $proxy_abi_version_0_2_1)

  ;; malloc(size) -> ptr: bump allocator, no growth, no free.
  (func $malloc (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap_top))
    (global.set $heap_top (i32.add (local.get $ptr) (local.get $size)))
    (local.get $ptr))

  ;; proxy_on_context_create(context_id, parent_context_id)
  (func $proxy_on_context_create (param i32 i32))

  ;; proxy_on_request_headers(context_id, num_headers, end_of_stream) -> action (0 = Continue)
  (func $proxy_on_request_headers (param i32 i32 i32) (result i32)
    (i32.const 0))

  (export "memory" (memory $memory))
  (export "proxy_abi_version_0_2_0" (func $proxy_abi_version_0_2_0))
  (export "proxy_abi_version_0_2_1" (func $proxy_abi_version_0_2_1))
  (export "malloc" (func $malloc))
  (export "proxy_on_context_create" (func $proxy_on_context_create))
  (export "proxy_on_request_headers" (func $proxy_on_request_headers))
)
