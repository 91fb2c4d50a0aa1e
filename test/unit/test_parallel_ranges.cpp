// Unit tests of ForEachRange: every row once, ranges on the grain, errors reach the caller.
#include <atomic>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "common/parallel_ranges.hpp"

namespace pgfraud {
namespace {

TEST(ForEachRange, CoversEveryRowOnceInRangesStartingOnTheGrain) {
  for (size_t rows : {0ul, 1ul, 511ul, 512ul, 513ul, 6000ul, 100001ul}) {
    for (int parts : {1, 2, 3, 8}) {
      std::vector<std::atomic<int>> seen(rows);
      std::vector<std::pair<size_t, size_t>> ranges(static_cast<size_t>(parts));
      const int used = ForEachRange(rows, 512, parts, [&](int part, size_t begin, size_t end) {
        ranges[static_cast<size_t>(part)] = {begin, end};
        for (size_t r = begin; r < end; ++r) seen[r]++;
      });
      ASSERT_GE(used, 1);
      ASSERT_LE(used, parts);
      EXPECT_LE(static_cast<size_t>(used), std::max<size_t>(1, (rows + 511) / 512));
      for (size_t r = 0; r < rows; ++r) ASSERT_EQ(seen[r].load(), 1) << "row " << r << " of " << rows;
      size_t next = 0;
      for (int p = 0; p < used; ++p) {
        EXPECT_EQ(ranges[static_cast<size_t>(p)].first, next);
        EXPECT_EQ(ranges[static_cast<size_t>(p)].first % 512, 0u);
        next = ranges[static_cast<size_t>(p)].second;
      }
      EXPECT_EQ(next, rows);
    }
  }
}

TEST(ForEachRange, AnErrorInAThreadReachesTheCaller) {
  EXPECT_THROW(ForEachRange(4096, 512, 4,
                            [](int part, size_t, size_t) {
                              if (part == 2) throw std::runtime_error("part 2 failed");
                            }),
               std::runtime_error);
}

}  // namespace
}  // namespace pgfraud
