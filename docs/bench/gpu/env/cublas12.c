/* Test-only shim: lets the faiss-gpu-cu12 wheel (built against cuBLAS 12) run on a machine that has
 * only cuBLAS 13, by exporting the 8 cuBLAS entry points faiss uses under the version node
 * "libcublas.so.12" and forwarding each call to libcublas.so.13 (same C signatures in both). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef int st; typedef void *h_t;
static void *lib;
static void *sym(const char *n) {
  if (!lib) { const char *p = getenv("CUBLAS13"); lib = dlopen(p ? p : "libcublas.so.13", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { fprintf(stderr, "cublas shim: %s\n", dlerror()); abort(); } }
  void *f = dlsym(lib, n); if (!f) { fprintf(stderr, "cublas shim: no %s\n", n); abort(); } return f;
}
#define F(name) static void *p_##name; if (!p_##name) p_##name = sym(#name)
st cublasCreate_v2(h_t *h) { F(cublasCreate_v2); return ((st(*)(h_t*))p_cublasCreate_v2)(h); }
st cublasDestroy_v2(h_t h) { F(cublasDestroy_v2); return ((st(*)(h_t))p_cublasDestroy_v2)(h); }
st cublasSetStream_v2(h_t h, void *s) { F(cublasSetStream_v2); return ((st(*)(h_t, void*))p_cublasSetStream_v2)(h, s); }
st cublasGetMathMode(h_t h, int *m) { F(cublasGetMathMode); return ((st(*)(h_t, int*))p_cublasGetMathMode)(h, m); }
st cublasSetMathMode(h_t h, int m) { F(cublasSetMathMode); return ((st(*)(h_t, int))p_cublasSetMathMode)(h, m); }
st cublasSgemmEx(h_t h, int ta, int tb, int m, int n, int k, const float *al, const void *A, int At, int lda,
                 const void *B, int Bt, int ldb, const float *be, void *C, int Ct, int ldc) {
  F(cublasSgemmEx);
  return ((st(*)(h_t,int,int,int,int,int,const float*,const void*,int,int,const void*,int,int,const float*,void*,int,int))
          p_cublasSgemmEx)(h, ta, tb, m, n, k, al, A, At, lda, B, Bt, ldb, be, C, Ct, ldc);
}
st cublasGemmEx(h_t h, int ta, int tb, int m, int n, int k, const void *al, const void *A, int At, int lda,
                const void *B, int Bt, int ldb, const void *be, void *C, int Ct, int ldc, int ct, int algo) {
  F(cublasGemmEx);
  return ((st(*)(h_t,int,int,int,int,int,const void*,const void*,int,int,const void*,int,int,const void*,void*,int,int,int,int))
          p_cublasGemmEx)(h, ta, tb, m, n, k, al, A, At, lda, B, Bt, ldb, be, C, Ct, ldc, ct, algo);
}
st cublasGemmStridedBatchedEx(h_t h, int ta, int tb, int m, int n, int k, const void *al, const void *A, int At,
                              int lda, long long sA, const void *B, int Bt, int ldb, long long sB, const void *be,
                              void *C, int Ct, int ldc, long long sC, int bc, int ct, int algo) {
  F(cublasGemmStridedBatchedEx);
  return ((st(*)(h_t,int,int,int,int,int,const void*,const void*,int,int,long long,const void*,int,int,long long,
                 const void*,void*,int,int,long long,int,int,int))p_cublasGemmStridedBatchedEx)(
      h, ta, tb, m, n, k, al, A, At, lda, sA, B, Bt, ldb, sB, be, C, Ct, ldc, sC, bc, ct, algo);
}
