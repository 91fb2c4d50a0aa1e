// Splits a range of rows across threads of this process, for the pure computations of the
// core (Newton sums over rows in memory). The threads never call into PostgreSQL: they run
// with every signal blocked (the backend's handlers stay on its own thread), and an exception
// thrown in one is rethrown in the caller once all have finished.
#pragma once

#include <cstddef>
#include <functional>

namespace pgfraud {

// Calls fn(part, begin, end) for `parts` consecutive ranges of [0, rows), each starting at a
// multiple of `grain` (the last ends at rows), part 0 on the calling thread and the others
// on threads of their own; returns when all have returned. Fewer parts when there are fewer
// grains than parts; if a thread cannot be started its part runs on the calling thread.
// Returns the number of parts used (fn was called with part < that number).
int ForEachRange(size_t rows, size_t grain, int parts,
                 const std::function<void(int part, size_t begin, size_t end)>& fn);

}  // namespace pgfraud
