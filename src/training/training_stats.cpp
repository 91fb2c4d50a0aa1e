// Mergeable statistics of the first training pass.
#include "training/training_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "common/byte_packing.hpp"
#include "training/training_data.hpp"

namespace pgfraud {

void RunningMoments::Settle() noexcept {
  if (pending_ == 0) return;
  const double n = pending_;
  RunningMoments batch;
  batch.count = n;
  batch.mean = shift_ + sum_ / n;
  batch.m2 = std::max(0.0, squares_ - sum_ * sum_ / n);
  pending_ = 0;
  sum_ = squares_ = 0.0;
  Merge(batch);
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

TrainingStats::TrainingStats(const Model& reading, size_t category_capacity, size_t whole_rows, uint64_t whole_cutoff,
                             size_t store_budget, size_t expected_rows, uint64_t whole_cutoff_positive)
    : moments(reading.features.size()),
      categories(reading.features.size(), CategoryCounter(category_capacity)),
      slots(reading.features.size()),
      whole_capacity(whole_rows / 2),
      whole_cutoff_{whole_cutoff, whole_cutoff_positive} {
  for (std::vector<StoredRow>& rows : whole) rows.reserve(2 * whole_capacity);  // KeepWhole trims at 2k
  if (store_budget > 0) {
    store = RowStore(reading, store_budget);
    store.Reserve(expected_rows);
  }
  for (size_t i = 0; i < reading.features.size(); ++i) {
    if (reading.features[i].kind == FeatureKind::kHourOfDay) slots[i].assign(25, 0.0);
    if (reading.features[i].kind == FeatureKind::kDayOfWeek) slots[i].assign(8, 0.0);
  }
}

namespace {

// A training row's sampling priority is its hash under this salt: under the holdout's hash
// the sample would be the training rows just past the holdout's cut, not a random draw.
constexpr uint64_t kPrioritySalt = 0x5bd1e9955bd1e995ULL;

// Bottom-k sampling: does a row of this priority enter a max-heap of at most k rows?
template <typename Row>
bool Enters(const std::vector<Row>& heap, size_t k, uint64_t priority) {
  return k > 0 && (heap.size() < k || priority < heap.front().priority);
}

template <typename Row>
void Keep(std::vector<Row>& heap, size_t k, Row row) {
  if (!Enters(heap, k, row.priority)) return;
  heap.push_back(std::move(row));
  std::push_heap(heap.begin(), heap.end());
  if (heap.size() > k) {
    std::pop_heap(heap.begin(), heap.end());
    heap.pop_back();
  }
}

// A row with more text than this is not kept whole: the sample's memory stays bounded by
// rows x (values + this), and such values are rarely among the frequent categories anyway.
constexpr size_t kMaxStoredText = 1024;

std::optional<StoredRow> Store(uint64_t priority, const FeatureValue* values, size_t n) {
  size_t text_bytes = 0, texts = 0;
  for (size_t i = 0; i < n; ++i) {
    if (values[i].kind == FeatureValue::Kind::kText || values[i].kind == FeatureValue::Kind::kOther) {
      text_bytes += values[i].text.size();
      ++texts;
    }
  }
  if (text_bytes > kMaxStoredText) return std::nullopt;
  StoredRow row{priority, {}};
  std::vector<uint8_t>& out = row.packed;
  out.reserve(8 + n * (1 + sizeof(double)) + 8 * texts + text_bytes);
  Put(out, static_cast<uint32_t>(n));
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(values[i].kind));
  for (size_t i = 0; i < n; ++i) {
    const FeatureValue& v = values[i];
    Put(out, v.kind == FeatureValue::Kind::kNumber           ? v.number
             : v.kind == FeatureValue::Kind::kBool && v.flag ? 1.0
                                                             : 0.0);
  }
  Put(out, static_cast<uint32_t>(texts));
  for (size_t i = 0; i < n; ++i) {
    const FeatureValue& v = values[i];
    if (v.kind != FeatureValue::Kind::kText && v.kind != FeatureValue::Kind::kOther) continue;
    Put(out, static_cast<uint32_t>(i));
    Put(out, static_cast<uint32_t>(v.text.size()));
    out.insert(out.end(), v.text.begin(), v.text.end());
  }
  return row;
}

// Whether `packed` holds a well-formed row (sent by a worker: checked before it is read).
bool WellFormed(const std::vector<uint8_t>& packed) {
  Unpacker u(packed.data(), packed.size());
  try {
    const uint32_t n = u.Get<uint32_t>();
    if (n > u.Left() / (1 + sizeof(double))) return false;
    for (uint32_t i = 0; i < n; ++i) {
      if (u.Get<uint8_t>() > static_cast<uint8_t>(FeatureValue::Kind::kOther)) return false;
    }
    u.Skip(n * sizeof(double));
    const uint32_t texts = u.Get<uint32_t>();
    if (texts > n) return false;
    for (uint32_t t = 0; t < texts; ++t) {
      const uint32_t i = u.Get<uint32_t>(), length = u.Get<uint32_t>();
      if (i >= n) return false;
      u.Skip(length);
    }
    return u.Done();
  } catch (const std::runtime_error&) {
    return false;
  }
}

// Whole rows as one flat buffer (byte_packing.hpp). Per row: priority, packed size, packed.
void PackRows(const std::vector<StoredRow>& rows, std::vector<uint8_t>& out) {
  size_t bytes = out.size();
  for (const StoredRow& row : rows) bytes += 12 + row.packed.size();
  out.reserve(bytes);
  for (const StoredRow& row : rows) {
    Put(out, row.priority);
    Put(out, static_cast<uint32_t>(row.packed.size()));
    out.insert(out.end(), row.packed.begin(), row.packed.end());
  }
}

std::vector<StoredRow> UnpackRows(Unpacker& u, uint64_t count) {
  std::vector<StoredRow> rows;
  rows.reserve(count);
  for (uint64_t r = 0; r < count; ++r) {
    StoredRow row{u.Get<uint64_t>(), {}};
    u.Array(row.packed, u.Get<uint32_t>());
    if (!WellFormed(row.packed)) throw std::runtime_error("corrupt training statistics");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

void StoredRow::Restore(std::vector<FeatureValue>& out) const {
  Unpacker u(packed.data(), packed.size());
  const uint32_t n = u.Get<uint32_t>();
  const uint8_t* kinds = packed.data() + sizeof(uint32_t);
  const uint8_t* numbers = kinds + n;
  out.assign(n, FeatureValue::Missing());
  for (uint32_t i = 0; i < n; ++i) {
    double x;
    std::memcpy(&x, numbers + i * sizeof(double), sizeof x);
    switch (static_cast<FeatureValue::Kind>(kinds[i])) {
      case FeatureValue::Kind::kNumber: out[i] = FeatureValue::Number(x); break;
      case FeatureValue::Kind::kBool: out[i] = FeatureValue::Bool(x != 0.0); break;
      default: break;
    }
  }
  u.Skip(n * (1 + sizeof(double)));
  const uint32_t texts = u.Get<uint32_t>();
  for (uint32_t t = 0; t < texts; ++t) {
    const uint32_t i = u.Get<uint32_t>(), length = u.Get<uint32_t>();
    const std::string_view text(reinterpret_cast<const char*>(packed.data() + (packed.size() - u.Left())), length);
    u.Skip(length);
    out[i] = static_cast<FeatureValue::Kind>(kinds[i]) == FeatureValue::Kind::kText ? FeatureValue::Text(text)
                                                                                    : FeatureValue::Other(text);
  }
}

void TrainingStats::Add(const Model& reading, const FeatureValue* values, uint64_t seed, double holdout,
                        const RowSplit* split, uint64_t position) {
  const size_t n = reading.features.size();
  rows += 1;
  std::optional<bool> label = ReadLabel(reading.features[n - 1], values[n - 1]);
  if (!label) {
    null_labels += 1;
    return;
  }
  if (HeldOut(split, position, *label, seed, holdout, [&] { return HoldoutHash(values, n, *label, seed); })) {
    holdout_rows += 1;
    holdout_positives += *label ? 1 : 0;
    store.Add(reading, values, *label, true);
    return;
  }
  training_rows += 1;
  training_positives += *label ? 1 : 0;
  const uint64_t priority = RowHash(values, n - 1, seed ^ kPrioritySalt);
  scratch_.assign(n - 1, NAN);
  // The values read here also go to the store (one read per value, not two).
  double* stored = store.BeginRow(*label, false);
  std::string buffer;
  for (size_t i = 0; i + 1 < n; ++i) {
    const Feature& f = reading.features[i];
    double kept = NAN;
    switch (f.kind) {
      case FeatureKind::kNumeric: {
        double x;
        if (ReadNumber(f, values[i], &x)) {
          moments[i].Add(x);
          scratch_[i] = kept = x;
        }
        break;
      }
      case FeatureKind::kBoolean: {
        bool b;
        if (ReadBool(f, values[i], &b)) {
          kept = b ? 1.0 : 0.0;
          moments[i].Add(kept);
        }
        break;
      }
      case FeatureKind::kCategorical: {
        std::string_view category;
        if (ReadCategory(f, values[i], &buffer, &category)) {
          categories[i].Add(category);
          if (stored != nullptr) kept = store.CategoryId(i, category);
        }
        break;
      }
      default: {
        int slot = ReadSlot(f, values[i]);
        slots[i][slot < 0 ? slots[i].size() - 1 : static_cast<size_t>(slot)] += 1.0;
        if (slot >= 0) kept = slot;
      }
    }
    if (stored != nullptr) stored[i] = kept;
  }
  if (stored != nullptr) store.EndRow();
  KeepSampled(
      priority, *label, n, [this] { return scratch_; }, [values] { return values; });
}

template <typename SampledNumbers, typename RowValues>
void TrainingStats::KeepSampled(uint64_t priority, bool positive, size_t n, SampledNumbers sampled, RowValues values) {
  if (Enters(sample, kSampleSize, priority)) Keep(sample, kSampleSize, SampleRow{priority, sampled()});
  if (whole_capacity > 0 && priority < whole_cutoff_[positive]) {
    if (std::optional<StoredRow> row = Store(priority, values(), n)) KeepWhole(positive, std::move(*row));
  }
}

std::vector<uint8_t> TrainingStats::PlainKinds(const Model& reading) {
  std::vector<uint8_t> kinds;
  for (const Feature& f : reading.features) {
    if ((f.kind != FeatureKind::kNumeric && f.kind != FeatureKind::kBoolean) || f.log1p) return {};
    kinds.push_back(static_cast<uint8_t>(f.kind == FeatureKind::kNumeric ? FeatureValue::Kind::kNumber
                                                                         : FeatureValue::Kind::kBool));
  }
  return kinds;
}

void TrainingStats::AddPlain(const Model& reading, const uint8_t* kinds, const double* numbers, uint64_t seed,
                             double holdout, const RowSplit* split, uint64_t position) {
  const size_t n = reading.features.size();
  const auto label_kind = static_cast<FeatureValue::Kind>(kinds[n - 1]);
  FeatureValue label_value;
  if (label_kind == FeatureValue::Kind::kNumber) label_value.SetNumber(numbers[n - 1]);
  if (label_kind == FeatureValue::Kind::kBool) label_value.SetBool(numbers[n - 1] != 0.0);
  rows += 1;
  const std::optional<bool> label = ReadLabel(reading.features[n - 1], label_value);
  if (!label) {
    null_labels += 1;
    return;
  }
  // The values as they are stored: a plain row's numbers (booleans are 0/1 already).
  auto keep = [&](bool in_holdout) {
    if (double* stored = store.BeginRow(*label, in_holdout)) {
      std::memcpy(stored, numbers, (n - 1) * sizeof(double));
      store.EndRow();
    }
  };
  if (HeldOut(split, position, *label, seed, holdout, [&] { return HoldoutHash(kinds, numbers, n, *label, seed); })) {
    holdout_rows += 1;
    holdout_positives += *label ? 1 : 0;
    keep(true);
    return;
  }
  training_rows += 1;
  training_positives += *label ? 1 : 0;
  keep(false);
  for (size_t i = 0; i + 1 < n; ++i) moments[i].Add(numbers[i]);
  const uint64_t priority = RowHash(kinds, numbers, n - 1, seed ^ kPrioritySalt);
  auto sampled = [&] {  // as Add keeps them: the numeric features' numbers
    std::vector<double> out(n - 1, NAN);
    for (size_t i = 0; i + 1 < n; ++i) {
      if (reading.features[i].kind == FeatureKind::kNumeric) out[i] = numbers[i];
    }
    return out;
  };
  auto values = [&] {
    scratch_values_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      if (kinds[i] == static_cast<uint8_t>(FeatureValue::Kind::kNumber)) scratch_values_[i].SetNumber(numbers[i]);
      if (kinds[i] == static_cast<uint8_t>(FeatureValue::Kind::kBool)) scratch_values_[i].SetBool(numbers[i] != 0.0);
    }
    scratch_values_[n - 1] = label_value;
    return scratch_values_.data();
  };
  KeepSampled(priority, *label, n, sampled, values);
}

void TrainingStats::Settle() noexcept {
  for (RunningMoments& m : moments) m.Settle();
}

void TrainingStats::Merge(TrainingStats& o) {
  Settle();
  o.Settle();
  rows += o.rows;
  null_labels += o.null_labels;
  training_rows += o.training_rows;
  training_positives += o.training_positives;
  holdout_rows += o.holdout_rows;
  holdout_positives += o.holdout_positives;
  hand_over = hand_over || o.hand_over;
  if (moments.empty()) {
    moments = std::move(o.moments);
    categories = std::move(o.categories);
    slots = std::move(o.slots);
    sample = std::move(o.sample);
    whole[0] = std::move(o.whole[0]);
    whole[1] = std::move(o.whole[1]);
    whole_capacity = o.whole_capacity;
    store = std::move(o.store);
    TrimWhole();
    return;
  }
  for (size_t i = 0; i < moments.size() && i < o.moments.size(); ++i) moments[i].Merge(o.moments[i]);
  for (size_t i = 0; i < categories.size() && i < o.categories.size(); ++i) categories[i].Merge(o.categories[i]);
  for (size_t i = 0; i < slots.size() && i < o.slots.size(); ++i) {
    for (size_t j = 0; j < slots[i].size() && j < o.slots[i].size(); ++j) slots[i][j] += o.slots[i][j];
  }
  for (const SampleRow& row : o.sample) Keep(sample, kSampleSize, row);
  for (int positive : {0, 1}) {
    for (StoredRow& row : o.whole[positive]) {
      if (row.priority < whole_cutoff_[positive]) KeepWhole(positive, std::move(row));
    }
  }
  TrimWhole();
  store.Merge(std::move(o.store));
}

// Candidates collect unsorted; at 2k the k smallest are kept and the cut-off drops to the
// smallest priority let go. Amortised O(1) per row, and no sifting of a heap of rows (which
// cost a quarter of the statistics pass in cache misses).
void TrainingStats::KeepWhole(int positive, StoredRow row) {
  whole[positive].push_back(std::move(row));
  if (whole[positive].size() >= 2 * whole_capacity) TrimWhole(positive);
}

void TrainingStats::TrimWhole() {
  TrimWhole(0);
  TrimWhole(1);
}

void TrainingStats::TrimWhole(int positive) {
  std::vector<StoredRow>& rows = whole[positive];
  if (rows.size() <= whole_capacity) return;
  const auto kth = rows.begin() + static_cast<long>(whole_capacity);
  std::nth_element(rows.begin(), kth, rows.end());
  whole_cutoff_[positive] = std::min(whole_cutoff_[positive], kth->priority);
  rows.erase(kth, rows.end());
}

std::vector<uint8_t> TrainingStats::Serialize() {
  Settle();
  TrimWhole();
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
  nlohmann::json j = {{"rows", rows},
                      {"null_labels", null_labels},
                      {"training_rows", training_rows},
                      {"training_positives", training_positives},
                      {"holdout_rows", holdout_rows},
                      {"holdout_positives", holdout_positives},
                      {"moments", m},
                      {"categories", c},
                      {"slots", slots},
                      {"sample", rows_sampled},
                      {"whole_capacity", whole_capacity},
                      {"hand_over", hand_over}};
  // Layout: the CBOR document's size, the document, then the whole rows packed flat.
  const std::vector<uint8_t> document = nlohmann::json::to_cbor(j);
  std::vector<uint8_t> out;
  Put(out, static_cast<uint64_t>(document.size()));
  out.insert(out.end(), document.begin(), document.end());
  for (int positive : {0, 1}) {
    Put(out, static_cast<uint64_t>(whole[positive].size()));
    PackRows(whole[positive], out);
  }
  Put(out, static_cast<uint8_t>(store.Enabled()));
  if (store.Enabled()) store.Serialize(out);
  return out;
}

TrainingStats TrainingStats::Deserialize(const uint8_t* data, size_t size) {
  Unpacker in(data, size);
  const uint64_t document_size = in.Get<uint64_t>();
  if (document_size > size - sizeof document_size) throw std::runtime_error("corrupt training statistics");
  const uint8_t* document = data + sizeof document_size;
  nlohmann::json j = nlohmann::json::from_cbor(document, document + document_size);
  in.Skip(document_size);
  TrainingStats s;
  s.rows = j.at("rows");
  s.null_labels = j.at("null_labels");
  s.training_rows = j.at("training_rows");
  s.training_positives = j.at("training_positives");
  s.holdout_rows = j.at("holdout_rows");
  s.holdout_positives = j.at("holdout_positives");
  for (const auto& r : j.at("moments")) {
    RunningMoments m;
    m.count = r[0].get<double>();
    m.mean = r[1].get<double>();
    m.m2 = r[2].get<double>();
    s.moments.push_back(m);
  }
  for (const auto& c : j.at("categories")) s.categories.push_back(CategoryCounter::FromJson(c));
  s.slots = j.at("slots").get<std::vector<std::vector<double>>>();
  for (const auto& r : j.at("sample")) {
    SampleRow row{r[0].get<uint64_t>(), {}};
    for (const auto& x : r[1]) row.numbers.push_back(x.is_null() ? NAN : x.get<double>());
    s.sample.push_back(std::move(row));
  }
  std::make_heap(s.sample.begin(), s.sample.end());
  s.whole_capacity = j.at("whole_capacity").get<size_t>();
  s.hand_over = j.value("hand_over", false);
  for (int positive : {0, 1}) {
    const uint64_t count = in.Get<uint64_t>();
    if (count > s.whole_capacity) throw std::runtime_error("corrupt training statistics");
    s.whole[positive] = UnpackRows(in, count);
  }
  if (in.Get<uint8_t>() != 0) s.store = RowStore::Deserialize(in);
  if (!in.Done()) throw std::runtime_error("corrupt training statistics");
  return s;
}

}  // namespace pgfraud
