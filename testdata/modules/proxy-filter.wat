;; proxy-filter.wat: a small proxy-wasm HTTP filter skeleton for ABI 0.2.1. It logs on
;; every request and adds the response header `x-wasm-filter: wasm-image`.
;; Names, signatures and constants follow the proxy-wasm ABI v0.2.1 specification
;; (https://github.com/proxy-wasm/spec, abi-versions/v0.2.1/README.md).
;;
;; Regenerate proxy-filter.wasm with ./build.sh (see README.md).
(module
  ;; Host functions (proxy-wasm ABI 0.2.1). All return a status code, 0 = Ok.
  ;; proxy_log(level, message_data, message_size)
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  ;; proxy_get_log_level(return_level_ptr)
  (import "env" "proxy_get_log_level" (func $proxy_get_log_level (param i32) (result i32)))
  ;; proxy_get_header_map_value(map_type, key_data, key_size, return_value_data, return_value_size)
  (import "env" "proxy_get_header_map_value"
    (func $proxy_get_header_map_value (param i32 i32 i32 i32 i32) (result i32)))
  ;; proxy_add_header_map_value(map_type, key_data, key_size, value_data, value_size)
  (import "env" "proxy_add_header_map_value"
    (func $proxy_add_header_map_value (param i32 i32 i32 i32 i32) (result i32)))

  (memory $memory 1)

  ;; Bump allocator state: the heap starts after the static data.
  (global $heap_top (mut i32) (i32.const 4096))

  ;; Static strings.
  (data (i32.const 1024) "on_request_headers")  ;; 18 bytes
  (data (i32.const 1056) "on_response_headers") ;; 19 bytes
  (data (i32.const 1088) "x-wasm-filter")       ;; 13 bytes
  (data (i32.const 1104) "wasm-image")          ;; 10 bytes
  (data (i32.const 1120) "context created")     ;; 15 bytes

  ;; ABI version marker: no parameters, no results, never called by the host.
  (func $proxy_abi_version_0_2_1)

  ;; WASI entry point; a filter has nothing to do at start-up.
  (func $_start)

  ;; malloc(size) -> ptr: the host allocates guest memory through this export.
  ;; A bump allocator, 8-byte aligned; grows memory when needed, returns 0 on failure.
  (func $malloc (param $size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap_top) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.lt_u (local.get $end) (local.get $ptr))
      (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
      (then
        (if (i32.eq
              (memory.grow
                (i32.sub
                  (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                  (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap_top (local.get $end))
    (local.get $ptr))

  ;; proxy_on_vm_start(root_context_id, vm_configuration_size) -> bool
  (func $proxy_on_vm_start (param $root_context_id i32) (param $vm_configuration_size i32) (result i32)
    (i32.const 1))

  ;; proxy_on_configure(root_context_id, plugin_configuration_size) -> bool
  (func $proxy_on_configure (param $root_context_id i32) (param $plugin_configuration_size i32) (result i32)
    (i32.const 1))

  ;; proxy_on_context_create(context_id, parent_context_id)
  (func $proxy_on_context_create (param $context_id i32) (param $parent_context_id i32)
    ;; log level 1 = debug
    (drop (call $proxy_log (i32.const 1) (i32.const 1120) (i32.const 15))))

  ;; proxy_on_request_headers(context_id, num_headers, end_of_stream) -> action
  (func $proxy_on_request_headers
    (param $context_id i32) (param $num_headers i32) (param $end_of_stream i32) (result i32)
    ;; log level 2 = info
    (drop (call $proxy_log (i32.const 2) (i32.const 1024) (i32.const 18)))
    ;; action 0 = Continue
    (i32.const 0))

  ;; proxy_on_response_headers(context_id, num_headers, end_of_stream) -> action
  (func $proxy_on_response_headers
    (param $context_id i32) (param $num_headers i32) (param $end_of_stream i32) (result i32)
    (drop (call $proxy_log (i32.const 2) (i32.const 1056) (i32.const 19)))
    ;; map type 2 = HTTP response headers
    (drop (call $proxy_add_header_map_value
      (i32.const 2) (i32.const 1088) (i32.const 13) (i32.const 1104) (i32.const 10)))
    (i32.const 0))

  ;; proxy_on_done(context_id) -> bool
  (func $proxy_on_done (param $context_id i32) (result i32)
    (i32.const 1))

  ;; proxy_on_log(context_id)
  (func $proxy_on_log (param $context_id i32))

  ;; proxy_on_delete(context_id)
  (func $proxy_on_delete (param $context_id i32))

  (export "memory" (memory $memory))
  (export "proxy_abi_version_0_2_1" (func $proxy_abi_version_0_2_1))
  (export "_start" (func $_start))
  (export "malloc" (func $malloc))
  (export "proxy_on_memory_allocate" (func $malloc))
  (export "proxy_on_vm_start" (func $proxy_on_vm_start))
  (export "proxy_on_configure" (func $proxy_on_configure))
  (export "proxy_on_context_create" (func $proxy_on_context_create))
  (export "proxy_on_request_headers" (func $proxy_on_request_headers))
  (export "proxy_on_response_headers" (func $proxy_on_response_headers))
  (export "proxy_on_done" (func $proxy_on_done))
  (export "proxy_on_log" (func $proxy_on_log))
  (export "proxy_on_delete" (func $proxy_on_delete))
)
