#include "core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace faceweave::core {

bool tune_allocator() {
#if defined(__GLIBC__)
  return mallopt(M_TRIM_THRESHOLD, int(kTrimThreshold)) == 1 &&
         mallopt(M_MMAP_THRESHOLD, int(kMmapThreshold)) == 1;
#else
  return false;
#endif
}

bool cap_allocator_arenas(int arenas) {
#if defined(__GLIBC__)
  return arenas > 0 && mallopt(M_ARENA_MAX, arenas) == 1;
#else
  (void)arenas;
  return false;
#endif
}

}  // namespace faceweave::core
