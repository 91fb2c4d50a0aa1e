// Threads for ranges of rows (see parallel_ranges.hpp).
#include "common/parallel_ranges.hpp"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "common/blocked_signals.hpp"

namespace pgfraud {

int ForEachRange(size_t rows, size_t grain, int parts, const std::function<void(int, size_t, size_t)>& fn) {
  grain = std::max<size_t>(grain, 1);
  const size_t grains = (rows + grain - 1) / grain;
  const size_t used = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::max(parts, 1)), grains));
  std::vector<size_t> bounds(used + 1);
  for (size_t p = 0; p <= used; ++p) bounds[p] = std::min(rows, grains * p / used * grain);
  bounds[used] = rows;
  if (used == 1) {
    fn(0, 0, rows);
    return 1;
  }
  std::vector<std::exception_ptr> errors(used);
  const auto run = [&](size_t p) {
    try {
      fn(static_cast<int>(p), bounds[p], bounds[p + 1]);
    } catch (...) {
      errors[p] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  std::vector<size_t> inline_parts;
  {
    BlockedSignals blocked;
    for (size_t p = 1; p < used; ++p) {
      try {
        threads.emplace_back(run, p);
      } catch (...) {
        inline_parts.push_back(p);  // no thread to be had: this thread runs it after its own
      }
    }
  }
  run(0);
  for (size_t p : inline_parts) run(p);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return static_cast<int>(used);
}

}  // namespace pgfraud
