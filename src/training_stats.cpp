// Mergeable statistics of the first training pass.
#include "training_stats.hpp"

#include <algorithm>
#include <cmath>

#include "training_data.hpp"

namespace pgfraud {

void RunningMoments::Add(double x) noexcept {
  count += 1.0;
  double delta = x - mean;
  mean += delta / count;
  m2 += delta * (x - mean);
}

void RunningMoments::Merge(const RunningMoments& o) noexcept {
  if (o.count == 0.0) return;
  if (count == 0.0) {
    *this = o;
    return;
  }
  double total = count + o.count;
  double delta = o.mean - mean;
  mean += delta * o.count / total;
  m2 += o.m2 + delta * delta * count * o.count / total;
  count = total;
}

double RunningMoments::StdDev() const noexcept { return count > 0 ? std::sqrt(m2 / count) : 0.0; }

void CategoryCounter::Add(std::string_view value) {
  counts_[std::string(value)] += 1.0;
  PruneIfFull();
}

void CategoryCounter::Merge(const CategoryCounter& other) {
  for (const auto& [value, count] : other.counts_) counts_[value] += count;
  pruned_ = pruned_ || other.pruned_;
  PruneIfFull();
}

void CategoryCounter::PruneIfFull() {
  if (counts_.size() <= 2 * capacity_) return;
  // Misra-Gries: subtract the (capacity+1)-th largest count from all, drop what reaches zero.
  std::vector<double> values;
  values.reserve(counts_.size());
  for (const auto& entry : counts_) values.push_back(entry.second);
  std::nth_element(values.begin(), values.begin() + static_cast<long>(capacity_), values.end(), std::greater<>());
  const double cut = values[capacity_];
  for (auto it = counts_.begin(); it != counts_.end();) {
    it->second -= cut;
    it = it->second <= 0 ? counts_.erase(it) : std::next(it);
  }
  pruned_ = true;
}

std::vector<std::pair<std::string, double>> CategoryCounter::Top(size_t k) const {
  std::vector<std::pair<std::string, double>> all(counts_.begin(), counts_.end());
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

nlohmann::json CategoryCounter::ToJson() const {
  nlohmann::json values = nlohmann::json::array();
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& [value, count] : counts_) {
    values.push_back(value);
    counts.push_back(count);
  }
  return {{"capacity", capacity_}, {"pruned", pruned_}, {"values", values}, {"counts", counts}};
}

CategoryCounter CategoryCounter::FromJson(const nlohmann::json& j) {
  CategoryCounter c(j.at("capacity").get<size_t>());
  c.pruned_ = j.at("pruned").get<bool>();
  const auto& values = j.at("values");
  const auto& counts = j.at("counts");
  for (size_t i = 0; i < values.size(); ++i) c.counts_[values[i].get<std::string>()] = counts[i].get<double>();
  return c;
}

TrainingStats::TrainingStats(const Model& reading, size_t category_capacity)
    : moments(reading.features.size()),
      categories(reading.features.size(), CategoryCounter(category_capacity)),
      slots(reading.features.size()) {
  for (size_t i = 0; i < reading.features.size(); ++i) {
    if (reading.features[i].kind == FeatureKind::kHourOfDay) slots[i].assign(25, 0.0);
    if (reading.features[i].kind == FeatureKind::kDayOfWeek) slots[i].assign(8, 0.0);
  }
}

void TrainingStats::AddToSample(SampleRow row) {
  if (sample.size() >= kSampleSize && !(row < sample.front())) return;
  sample.push_back(std::move(row));
  std::push_heap(sample.begin(), sample.end());
  if (sample.size() > kSampleSize) {
    std::pop_heap(sample.begin(), sample.end());
    sample.pop_back();
  }
}

void TrainingStats::Add(const Model& reading, const FeatureValue* values, uint64_t seed, double holdout) {
  const size_t n = reading.features.size();
  rows += 1;
  std::optional<bool> label = ReadLabel(reading.features[n - 1], values[n - 1]);
  if (!label) {
    null_labels += 1;
    return;
  }
  if (InHoldout(HoldoutHash(values, n, *label, seed), holdout)) {
    holdout_rows += 1;
    holdout_positives += *label ? 1 : 0;
    return;
  }
  training_rows += 1;
  training_positives += *label ? 1 : 0;
  SampleRow sampled{RowHash(values, n - 1, seed ^ 0x5bd1e9955bd1e995ULL), std::vector<double>(n - 1, NAN)};
  std::string buffer;
  for (size_t i = 0; i + 1 < n; ++i) {
    const Feature& f = reading.features[i];
    switch (f.kind) {
      case FeatureKind::kNumeric: {
        double x;
        if (ReadNumber(f, values[i], &x)) {
          moments[i].Add(x);
          sampled.numbers[i] = x;
        }
        break;
      }
      case FeatureKind::kBoolean: {
        bool b;
        if (ReadBool(f, values[i], &b)) moments[i].Add(b ? 1.0 : 0.0);
        break;
      }
      case FeatureKind::kCategorical: {
        std::string_view category;
        if (ReadCategory(f, values[i], &buffer, &category)) categories[i].Add(category);
        break;
      }
      default: {
        int slot = ReadSlot(f, values[i]);
        slots[i][slot < 0 ? slots[i].size() - 1 : static_cast<size_t>(slot)] += 1.0;
      }
    }
  }
  AddToSample(std::move(sampled));
}

void TrainingStats::Merge(const TrainingStats& o) {
  rows += o.rows;
  null_labels += o.null_labels;
  training_rows += o.training_rows;
  training_positives += o.training_positives;
  holdout_rows += o.holdout_rows;
  holdout_positives += o.holdout_positives;
  if (moments.empty()) {
    moments = o.moments;
    categories = o.categories;
    slots = o.slots;
    sample = o.sample;
    return;
  }
  for (size_t i = 0; i < moments.size() && i < o.moments.size(); ++i) moments[i].Merge(o.moments[i]);
  for (size_t i = 0; i < categories.size() && i < o.categories.size(); ++i) categories[i].Merge(o.categories[i]);
  for (size_t i = 0; i < slots.size() && i < o.slots.size(); ++i) {
    for (size_t j = 0; j < slots[i].size() && j < o.slots[i].size(); ++j) slots[i][j] += o.slots[i][j];
  }
  for (const SampleRow& row : o.sample) AddToSample(row);
}

std::vector<uint8_t> TrainingStats::Serialize() const {
  nlohmann::json m = nlohmann::json::array();
  for (const RunningMoments& r : moments) m.push_back({r.count, r.mean, r.m2});
  nlohmann::json c = nlohmann::json::array();
  for (const CategoryCounter& counter : categories) c.push_back(counter.ToJson());
  nlohmann::json rows_sampled = nlohmann::json::array();
  for (const SampleRow& row : sample) {
    nlohmann::json numbers = nlohmann::json::array();
    for (double x : row.numbers) numbers.push_back(std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x));
    rows_sampled.push_back({row.priority, numbers});
  }
  nlohmann::json j = {{"rows", rows}, {"null_labels", null_labels}, {"training_rows", training_rows},
                      {"training_positives", training_positives}, {"holdout_rows", holdout_rows},
                      {"holdout_positives", holdout_positives}, {"moments", m}, {"categories", c},
                      {"slots", slots}, {"sample", rows_sampled}};
  return nlohmann::json::to_cbor(j);
}

TrainingStats TrainingStats::Deserialize(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::from_cbor(data, data + size);
  TrainingStats s;
  s.rows = j.at("rows");
  s.null_labels = j.at("null_labels");
  s.training_rows = j.at("training_rows");
  s.training_positives = j.at("training_positives");
  s.holdout_rows = j.at("holdout_rows");
  s.holdout_positives = j.at("holdout_positives");
  for (const auto& r : j.at("moments")) s.moments.push_back({r[0].get<double>(), r[1].get<double>(), r[2].get<double>()});
  for (const auto& c : j.at("categories")) s.categories.push_back(CategoryCounter::FromJson(c));
  s.slots = j.at("slots").get<std::vector<std::vector<double>>>();
  for (const auto& r : j.at("sample")) {
    SampleRow row{r[0].get<uint64_t>(), {}};
    for (const auto& x : r[1]) row.numbers.push_back(x.is_null() ? NAN : x.get<double>());
    s.sample.push_back(std::move(row));
  }
  std::make_heap(s.sample.begin(), s.sample.end());
  return s;
}

}  // namespace pgfraud
