// Unit tests of PagePopulator: it makes a region's pages resident without changing what a
// writer running beside it writes, and stops when destroyed mid-way.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/page_populator.hpp"

namespace pgfraud {
namespace {

constexpr size_t kBytes = size_t{64} << 20;

struct Region {
  void* start = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ~Region() { munmap(start, kBytes); }
  size_t ResidentPages() const {
    std::vector<unsigned char> resident(kBytes / static_cast<size_t>(sysconf(_SC_PAGESIZE)));
    if (mincore(start, kBytes, resident.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char r : resident) n += r & 1;
    return n;
  }
};

// Whether this kernel populates on request (Linux 5.14): else the populator does nothing.
bool KernelPopulates() {
  Region probe;
  return madvise(probe.start, 4096, MADV_POPULATE_WRITE) == 0;
}

TEST(PagePopulator, WritesBesideItKeepTheirValues) {
  Region region;
  ASSERT_NE(region.start, MAP_FAILED);
  auto* values = static_cast<double*>(region.start);
  const size_t count = kBytes / sizeof(double);
  {
    PagePopulator populator(region.start, kBytes);
    for (size_t i = 0; i < count; ++i) values[i] = static_cast<double>(i) * 0.5;
  }
  for (size_t i = 0; i < count; i += 4099) ASSERT_EQ(values[i], static_cast<double>(i) * 0.5) << i;
  EXPECT_EQ(values[count - 1], static_cast<double>(count - 1) * 0.5);
}

TEST(PagePopulator, MakesTheRegionResident) {
  if (!KernelPopulates()) GTEST_SKIP() << "MADV_POPULATE_WRITE is not supported here";
  Region region;
  ASSERT_NE(region.start, MAP_FAILED);
  const size_t pages = kBytes / static_cast<size_t>(sysconf(_SC_PAGESIZE));
  EXPECT_LT(region.ResidentPages(), pages);
  PagePopulator populator(region.start, kBytes);
  // Its thread runs on its own: wait (up to a minute on a loaded machine) for every page.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (region.ResidentPages() < pages && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(region.ResidentPages(), pages);
  EXPECT_EQ(static_cast<const double*>(region.start)[pages * 7], 0.0);  // populated, not written
}

TEST(PagePopulator, StopsWhenDestroyedAndIgnoresAnEmptyRegion) {
  Region region;
  ASSERT_NE(region.start, MAP_FAILED);
  for (int i = 0; i < 20; ++i) PagePopulator stopped(region.start, kBytes);  // joins at once
  PagePopulator none(nullptr, kBytes);
  PagePopulator tiny(region.start, 100);  // no whole page inside
  SUCCEED();
}

}  // namespace
}  // namespace pgfraud
