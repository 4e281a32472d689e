// Thread-count control shared by every parallel loop of the core.
//
// Usage:
//   #pragma omp parallel for num_threads(twin::max_threads()) schedule(static)
//   int t = twin::thread_index();        // 0 .. max_threads() - 1 inside a parallel region
//
// The count is process-wide (an atomic), not OpenMP's per-thread setting: Python may call
// the binding set_max_threads (twin.registration.set_num_threads) on one thread and run
// registrations on others (asyncio.to_thread).
#pragma once
#include <atomic>
#ifdef TWIN_HAVE_OPENMP
#include <omp.h>
#endif

namespace twin {

namespace detail {
// OpenMP's default: OMP_NUM_THREADS where set, else one thread per core.
inline int default_thread_count() {
#ifdef TWIN_HAVE_OPENMP
  static const int count = omp_get_max_threads();
  return count;
#else
  return 1;
#endif
}
inline std::atomic<int> thread_count{default_thread_count()};
}  // namespace detail

inline int max_threads() { return detail::thread_count.load(std::memory_order_relaxed); }

// n <= 0 restores the default (OMP_NUM_THREADS, else one thread per core).
inline void set_max_threads(int n) {
#ifdef TWIN_HAVE_OPENMP
  detail::thread_count.store(n > 0 ? n : detail::default_thread_count(), std::memory_order_relaxed);
  omp_set_num_threads(max_threads());  // for loops that do not name their thread count
#else
  (void)n;
#endif
}

inline int thread_index() {
#ifdef TWIN_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace twin
