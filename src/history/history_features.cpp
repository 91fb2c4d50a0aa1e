// History features: counts, sums, means, ratios and distinct counts per window, the time
// since the previous row, the entity's age and never-seen values, from earlier rows only.
#include "history/history_features.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

namespace pgfraud {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// The first row of `past` inside [time - length, time).
size_t WindowStart(const EntityPast& past, int64_t time, int64_t length) {
  size_t i = past.begin;
  while (i < past.times.size() && past.times[i] < time - length) ++i;
  return i;
}

// The distinct non-missing values of distinct column d in rows [start, end). A window holds
// tens of rows with a few distinct values (countries, devices): each row is looked up in the
// short list of values met so far; past kShortList values, the views are sorted and counted
// once instead (hashing each cost more than either).
size_t CountDistinct(const EntityPast& past, size_t start, size_t d, size_t nd) {
  constexpr size_t kShortList = 8;
  thread_local std::vector<std::string_view> values;
  values.clear();
  size_t i = start;
  for (; i < past.times.size() && values.size() < kShortList; ++i) {
    const std::optional<std::string>& v = past.distinct[i * nd + d];
    if (v && std::find(values.begin(), values.end(), std::string_view(*v)) == values.end()) values.emplace_back(*v);
  }
  if (i == past.times.size()) return values.size();
  for (; i < past.times.size(); ++i) {
    const std::optional<std::string>& v = past.distinct[i * nd + d];
    if (v) values.emplace_back(*v);
  }
  std::sort(values.begin(), values.end());
  return static_cast<size_t>(std::unique(values.begin(), values.end()) - values.begin());
}

}  // namespace

void ComputeEntityFeatures(const HistorySpec& spec, const EntityPast& past, const CurrentRow& row, double* out) {
  const size_t na = spec.amounts.size(), nd = spec.distinct.size();
  const size_t rows = past.times.size();
  size_t k = 0;
  for (const HistoryWindow& w : spec.windows) {
    const size_t start = WindowStart(past, row.time, w.microseconds);
    out[k++] = static_cast<double>(rows - start);
    for (size_t a = 0; a < na; ++a) {
      double sum = 0.0;
      size_t counted = 0;
      for (size_t i = start; i < rows; ++i) {  // oldest first, in both paths
        const double x = past.amounts[i * na + a];
        if (std::isnan(x)) continue;
        sum += x;
        ++counted;
      }
      const double mean = counted > 0 ? sum / static_cast<double>(counted) : kMissing;
      const double current = row.amounts[a];
      out[k++] = sum;
      out[k++] = mean;
      out[k++] = counted > 0 && mean != 0.0 && !std::isnan(current) ? current / mean : kMissing;
    }
    for (size_t d = 0; d < nd; ++d) out[k++] = static_cast<double>(CountDistinct(past, start, d, nd));
  }
  out[k++] = past.has_earlier ? static_cast<double>(row.time - past.last_time) / 1e6 : kMissing;
  out[k++] = past.has_earlier ? static_cast<double>(row.time - past.first_time) / 1e6 : 0.0;
  for (size_t n = 0; n < spec.fresh.size(); ++n) {
    const int8_t seen = n < past.seen.size() ? past.seen[n] : -1;
    out[k++] = seen < 0 ? kMissing : (seen == 0 ? 1.0 : 0.0);
  }
}

void HistorySweep::Reset() {
  past_ = EntityPast();
  for (auto& s : seen_) s.clear();
}

void HistorySweep::Add(int64_t time, const std::vector<double>& amounts,
                       const std::vector<std::optional<std::string>>& distinct,
                       const std::vector<std::optional<std::string>>& fresh) {
  if (!past_.has_earlier) past_.first_time = time;
  past_.has_earlier = true;
  past_.last_time = time;
  past_.times.push_back(time);
  past_.amounts.insert(past_.amounts.end(), amounts.begin(), amounts.end());
  past_.distinct.insert(past_.distinct.end(), distinct.begin(), distinct.end());
  for (size_t n = 0; n < fresh.size() && n < seen_.size(); ++n) {
    if (fresh[n]) seen_[n].insert(*fresh[n]);
  }
}

void HistorySweep::Compute(const CurrentRow& row, const std::vector<std::optional<std::string>>& fresh, double* out) {
  // Rows that left the longest window leave the state; compact when half of it is dead.
  const int64_t longest = spec_.LongestWindow();
  while (past_.begin < past_.times.size() && past_.times[past_.begin] < row.time - longest) ++past_.begin;
  if (past_.begin > 64 && past_.begin * 2 > past_.times.size()) {
    const size_t b = past_.begin, na = spec_.amounts.size(), nd = spec_.distinct.size();
    past_.times.erase(past_.times.begin(), past_.times.begin() + static_cast<long>(b));
    past_.amounts.erase(past_.amounts.begin(), past_.amounts.begin() + static_cast<long>(b * na));
    past_.distinct.erase(past_.distinct.begin(), past_.distinct.begin() + static_cast<long>(b * nd));
    past_.begin = 0;
  }
  past_.seen.assign(spec_.fresh.size(), -1);
  for (size_t n = 0; n < spec_.fresh.size(); ++n) {
    if (n < fresh.size() && fresh[n]) past_.seen[n] = seen_[n].count(*fresh[n]) ? 1 : 0;
  }
  ComputeEntityFeatures(spec_, past_, row, out);
}

}  // namespace pgfraud
