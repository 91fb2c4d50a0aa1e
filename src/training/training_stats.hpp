// The first training pass: counts, means and spreads, and frequent categories, mergeable
// across parallel workers, in memory bounded by the number of columns.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "training/row_store.hpp"
#include "training/training_data.hpp"

namespace pgfraud {

// Running count, mean and sum of squared deviations. Values are summed in batches around a
// shift (the mean so far), each batch folded in as Chan et al. merge two sets: as exact as
// Welford's update without its division per value, which chained a ~20-cycle latency through
// every number of the statistics pass. Read count, mean and m2 after Settle().
struct RunningMoments {
  double count = 0.0;
  double mean = 0.0;
  double m2 = 0.0;

  void Add(double x) noexcept {
    if (pending_ == 0) shift_ = count > 0 ? mean : x;
    const double d = x - shift_;
    sum_ += d;
    squares_ += d * d;
    if (++pending_ == kBatch) Settle();
  }
  // Folds the values added since the last Settle into count, mean and m2.
  void Settle() noexcept;
  void Merge(const RunningMoments& other) noexcept;  // both settled
  // Population standard deviation, as scikit-learn's StandardScaler.
  double StdDev() const noexcept;

 private:
  static constexpr int kBatch = 4096;
  int pending_ = 0;
  double shift_ = 0.0, sum_ = 0.0, squares_ = 0.0;
};

// Frequencies of a text column's values. Exact up to `capacity` distinct values; beyond,
// the Misra-Gries summary keeps the frequent ones (any value more frequent than n/capacity).
class CategoryCounter {
 public:
  explicit CategoryCounter(size_t capacity = 1000) : capacity_(capacity) {}

  void Add(std::string_view value);
  void Merge(const CategoryCounter& other);
  // The `k` most frequent values with their counts, most frequent first (ties by value).
  std::vector<std::pair<std::string, double>> Top(size_t k) const;
  bool Pruned() const noexcept { return pruned_; }

  nlohmann::json ToJson() const;
  static CategoryCounter FromJson(const nlohmann::json& j);

 private:
  void PruneIfFull();

  size_t capacity_;
  bool pruned_ = false;
  std::unordered_map<std::string, double> counts_;
};

// A row of the bottom-k sample that drift references are built from: the rows with the k
// smallest hashes, so samples of parallel workers merge into the sample of the whole table.
struct SampleRow {
  uint64_t priority;
  std::vector<double> numbers;  // per reading feature: the number, NaN when missing or not numeric
  bool operator<(const SampleRow& o) const { return priority < o.priority; }
};

// A training row kept whole (every feature value and the label), for fitting a starting
// point on a sample before the passes over the table (see FitOnSample in trainer.cpp).
// One allocation a row (tens of thousands are stored, sent from workers and merged): the
// values packed as value count n (u32), n kinds (FeatureValue::Kind, label last), n numbers
// (the number, 0/1 for a boolean), text count (u32), then per text: feature (u32), length
// (u32) and its bytes.
struct StoredRow {
  uint64_t priority;
  std::vector<uint8_t> packed;

  // Views of the stored values; valid while this row lives.
  void Restore(std::vector<FeatureValue>& out) const;
  bool operator<(const StoredRow& o) const { return priority < o.priority; }
};

// The statistics of the training rows, per feature of the reading model.
class TrainingStats {
 public:
  TrainingStats() = default;
  // `whole_rows`: how many training rows to keep whole (0: none), half of each class; of the
  // legitimate rows only those with a priority below `whole_cutoff`, of the fraudulent ones
  // those below `whole_cutoff_positive`.
  // `store_budget`: bytes for keeping every labelled row (0: none), reserved for about
  // `expected_rows`.
  TrainingStats(const Model& reading, size_t category_capacity, size_t whole_rows = 0,
                uint64_t whole_cutoff = UINT64_MAX, size_t store_budget = 0, size_t expected_rows = 0,
                uint64_t whole_cutoff_positive = UINT64_MAX);

  // Adds one row (values aligned with the reading model's features, label last). It is held
  // out by `split` at its `position` when a split is given (RowSplit), else by its hash.
  void Add(const Model& reading, const FeatureValue* values, uint64_t seed, double holdout,
           const RowSplit* split = nullptr, uint64_t position = RowSplit::kNoPosition);
  // The kinds (FeatureValue::Kind) of a plain row of `reading`: every feature present and of
  // its own type, numbers for numeric features and booleans for boolean ones (the label's
  // entry says boolean; AddPlain reads any label but text). Empty when `reading` has a
  // feature of another kind, whose rows are never plain.
  static std::vector<uint8_t> PlainKinds(const Model& reading);
  // Adds a plain row: `kinds` are PlainKinds(reading) but for the label's, which is a number,
  // a boolean or missing, and the features' numbers are finite (a boolean as 0/1). The same
  // as Add of these values, without reading each value by its kind.
  void AddPlain(const Model& reading, const uint8_t* kinds, const double* numbers, uint64_t seed, double holdout,
                const RowSplit* split = nullptr, uint64_t position = RowSplit::kNoPosition);
  void Merge(TrainingStats& other);  // takes the other's stored rows
  // Folds batched sums into `moments`; Merge and Serialize do it, as must any other reader.
  void Settle() noexcept;

  std::vector<uint8_t> Serialize();  // trims `whole` first
  static TrainingStats Deserialize(const uint8_t* data, size_t size);

  double rows = 0;         // rows read
  double null_labels = 0;  // skipped
  double training_rows = 0;
  double training_positives = 0;
  double holdout_rows = 0;
  double holdout_positives = 0;
  std::vector<RunningMoments> moments;      // numeric and boolean features (booleans as 0/1)
  std::vector<CategoryCounter> categories;  // categorical features
  std::vector<std::vector<double>> slots;   // time features: rows per hour or weekday, then missing
  std::vector<SampleRow> sample;            // a max-heap by priority, at most kSampleSize rows
  static constexpr size_t kSampleSize = 2000;
  // Training rows kept whole, per class ([0] legitimate, [1] fraudulent): the bottom-k by the
  // same priorities as `sample`, k = whole_capacity per class. A class-balanced sample keeps
  // the rare fraudulent rows, where a logistic model's information is; weighting each class
  // by its total / kept count makes the sample's objective estimate the table's. While rows
  // are added a class holds up to 2k candidates; after TrimWhole, Merge and Deserialize at
  // most k.
  std::vector<StoredRow> whole[2];
  size_t whole_capacity = 0;
  void TrimWhole();
  // Every labelled row (training and holdout) while they fit the store's budget.
  RowStore store;
  // Set by the glue's passes: the final state is handed to the caller in this backend
  // rather than serialised (see glue/pass_handover.hpp).
  bool hand_over = false;

 private:
  // Enters a training row into the sample and the whole rows when its priority lets it:
  // `sampled()` gives the numbers the sample keeps, `values()` the row's values.
  template <typename SampledNumbers, typename RowValues>
  void KeepSampled(uint64_t priority, bool positive, size_t n, SampledNumbers sampled, RowValues values);
  void KeepWhole(int positive, StoredRow row);
  void TrimWhole(int positive);
  // Per class: no row at or above it can be among the k smallest.
  uint64_t whole_cutoff_[2] = {UINT64_MAX, UINT64_MAX};
  std::vector<double> scratch_;               // the numbers of the row being added
  std::vector<FeatureValue> scratch_values_;  // a plain row's values, when kept whole
};

}  // namespace pgfraud
