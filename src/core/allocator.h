// Process-wide tuning of glibc's allocator for image work (called once by the faceweave binary's main and by
// the benchmarks; a library user may call it too).
// Image stages allocate and free many temporaries of one to several megabytes per face and frame. With
// glibc's defaults the freed memory at the top of a heap is handed back to the kernel after almost every
// call and faulted in (and zeroed) again by the next: on a video swap that was a tenth of all CPU time, and
// 40% of the lighting stage's. Keeping up to kTrimThreshold bytes free per heap, and serving blocks up to
// kMmapThreshold from the heaps rather than from fresh mappings, removes that churn for a bounded amount of
// memory kept (docs/benchmarks.md).
#pragma once

#include <cstddef>

namespace faceweave::core {

inline constexpr std::size_t kTrimThreshold = std::size_t(128) << 20;
inline constexpr std::size_t kMmapThreshold = std::size_t(32) << 20;  // glibc's largest on 64-bit

// Returns false where the C library has no such settings (then nothing changes).
bool tune_allocator();

// At most `arenas` malloc arenas for the process (glibc's default is 8 per core). Each arena keeps what its
// threads freed, up to kTrimThreshold, so a server whose 32 request threads each decode an image held
// about 30 MB per arena: 16 arenas on 2 cores took it from 208 to 724 MB in a 2-minute soak (64 cores would
// allow 512). `faceweave serve` calls it before any thread starts; false where it is not supported.
bool cap_allocator_arenas(int arenas);

}  // namespace faceweave::core
