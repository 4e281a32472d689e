// Thread-count control shared by every parallel loop of the core.
#pragma once
#ifdef TWIN_HAVE_OPENMP
#include <omp.h>
#endif

namespace twin {

inline int max_threads() {
#ifdef TWIN_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// n <= 0 restores the default: one thread per core.
inline void set_max_threads(int n) {
#ifdef TWIN_HAVE_OPENMP
  omp_set_num_threads(n > 0 ? n : omp_get_num_procs());
#else
  (void)n;
#endif
}

}  // namespace twin
