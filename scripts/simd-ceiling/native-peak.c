// The arithmetic peak of the host's native SIMD on 1..N threads: 12 independent chains of fused multiply-adds at
// 512, 256 bits, and 128-bit multiply then add (what wasm's SIMD maps to). Built by ../simd-ceiling.mjs with
// gcc -O3 -march=native -fopenmp; a width the host lacks is skipped.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

#ifdef __AVX512F__
__attribute__((noinline)) static float fma512(long n, float f) {
  __m512 a[12];
  const __m512 m = _mm512_set1_ps(f), c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
  for (long k = 0; k < n; k++)
    for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
  for (int i = 1; i < 12; i++) a[0] = _mm512_add_ps(a[0], a[i]);
  return _mm512_reduce_add_ps(a[0]);
}
#endif

#ifdef __FMA__
__attribute__((noinline)) static float fma256(long n, float f) {
  __m256 a[12];
  const __m256 m = _mm256_set1_ps(f), c = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  for (long k = 0; k < n; k++)
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
  for (int i = 1; i < 12; i++) a[0] = _mm256_add_ps(a[0], a[i]);
  return a[0][0];
}
#endif

__attribute__((noinline)) static float mul_add128(long n, float f) {
  __m128 a[12];
  const __m128 m = _mm_set1_ps(f), c = _mm_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm_set1_ps((float)i);
  for (long k = 0; k < n; k++)
    for (int i = 0; i < 12; i++) a[i] = _mm_add_ps(_mm_mul_ps(a[i], m), c);
  for (int i = 1; i < 12; i++) a[0] = _mm_add_ps(a[0], a[i]);
  return a[0][0];
}

/** GFLOP/s of `kernel` (`flops` per iteration) on `threads` threads, each timing its own run after a warm-up. */
static double rate(float (*kernel)(long, float), int flops, int threads, long n) {
  double total = 0, sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total, sink)
  {
    sink += kernel(n / 10, 0.999f);
#pragma omp barrier
    double start = now();
    sink += kernel(n, 0.999f);
    total += (double)n * flops / (now() - start) * 1e-9;
  }
  if (sink == 12345.f) puts("");
  return total;
}

int main(int argc, char** argv) {
  const int maxThreads = argc > 1 ? atoi(argv[1]) : omp_get_num_procs();
  const long n = argc > 2 ? atol(argv[2]) : 100000000L;
  for (int threads = 1; threads <= maxThreads; threads++) {
#ifdef __AVX512F__
    printf("native\tAVX-512 FMA\t%d\t%.1f\n", threads, rate(fma512, 12 * 16 * 2, threads, n));
#endif
#ifdef __FMA__
    printf("native\tAVX2 FMA\t%d\t%.1f\n", threads, rate(fma256, 12 * 8 * 2, threads, n));
#endif
    printf("native\tSSE multiply + add\t%d\t%.1f\n", threads, rate(mul_add128, 12 * 4 * 2, threads, n));
  }
  return 0;
}
