// The arithmetic peak of WebAssembly's 128-bit SIMD: 12 independent chains of a four-lane multiply then add (wasm
// has no fused multiply-add without the relaxed-SIMD proposal). Built by ../simd-ceiling.mjs with clang.
#include <wasm_simd128.h>

__attribute__((export_name("peak"))) float peak(int iterations, float factor) {
  v128_t chains[12];
  const v128_t m = wasm_f32x4_splat(factor), c = wasm_f32x4_splat(1e-7f);
  for (int i = 0; i < 12; i++) chains[i] = wasm_f32x4_splat((float)i);
  for (int k = 0; k < iterations; k++) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; i++) chains[i] = wasm_f32x4_add(wasm_f32x4_mul(chains[i], m), c);
  }
  v128_t sum = chains[0];
  for (int i = 1; i < 12; i++) sum = wasm_f32x4_add(sum, chains[i]);
  return wasm_f32x4_extract_lane(sum, 0);  // read, so that nothing is optimised away
}
