// The training driver: a statistics pass, then Newton iterations until convergence, each a
// pass over the table or, when the statistics pass kept every row, over rows in memory. The passes themselves run wherever the rows are (the glue runs them as parallel
// aggregates through SPI); this file only decides what each pass computes.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "linear/encoding.hpp"
#include "evaluation/metrics.hpp"
#include "model/model.hpp"
#include "linear/newton.hpp"
#include "training/training_data.hpp"
#include "training/training_options.hpp"
#include "training/training_stats.hpp"

namespace pgfraud {

// The most bytes a statistics pass keeps rows in, whatever the budget: a parallel worker
// sends its rows as one bytea, which PostgreSQL limits to 1 GB.
constexpr size_t kMaxStoreBytes = size_t{768} << 20;

// What one pass over the source computes; serialised as the aggregate's spec argument.
struct PassSpec {
  std::vector<TrainingColumn> columns;
  std::string label;
  uint64_t seed = 42;
  double holdout = 0.2;
  size_t category_capacity = 1000;
  size_t whole_rows = 0;                        // statistics pass: training rows to keep whole for the warm start
  uint64_t whole_cutoff = UINT64_MAX;           // and only legitimate rows of a priority below this,
  uint64_t whole_cutoff_positive = UINT64_MAX;  // fraudulent rows below this
  size_t store_budget = 0;                      // statistics pass: bytes to keep every labelled row in (0: none)
  size_t expected_rows = 0;                     // room to reserve for them
  bool hand_over = false;                       // statistics pass: the final state stays in the backend (glue)
  bool pipeline = false;                        // statistics pass: rows added on a thread (statistics_pipeline.hpp)
  // The exact holdout drawn by row position (a table read with its tuple ids); none: by hash.
  std::optional<RowSplit> row_split;
  std::vector<std::string> missing_values;  // texts read as missing (TrainingOptions)
  // Newton and evaluation passes only:
  bool newton = false;
  Encoding encoding;
  std::vector<double> beta;
  double positive_weight = 1.0;
  double negative_weight = 1.0;
  bool with_hessian = true;
  bool evaluate_all = false;  // in-sample metrics: every row is an evaluation row
  bool scores = true;         // fill the score histograms (NewtonAccumulator::scores)

  nlohmann::json ToJson() const;
  static PassSpec FromJson(const nlohmann::json& j);
};

// A spec made ready for rows: the reading model the glue plans columns with, and scratch.
class PassContext {
 public:
  explicit PassContext(PassSpec spec);

  const PassSpec& spec() const { return spec_; }
  const Model& reading() const { return reading_; }

  // Empty statistics shaped for this spec, to add rows to; `reserve`: the room for the rows
  // in memory taken at once (false: the caller reserves spec().expected_rows itself).
  TrainingStats NewStatistics(bool reserve = true) const;
  // `position`: the row's position when the spec has a row split (RowSplit::Key).
  void AddToStatistics(TrainingStats& stats, const FeatureValue* values,
                       uint64_t position = RowSplit::kNoPosition) const;
  // A plain row (TrainingStats::AddPlain).
  void AddPlainToStatistics(TrainingStats& stats, const uint8_t* kinds, const double* numbers,
                            uint64_t position = RowSplit::kNoPosition) const;
  void AddToNewton(NewtonAccumulator& acc, const FeatureValue* values, uint64_t position = RowSplit::kNoPosition);

 private:
  PassSpec spec_;
  Model reading_;
  Eigen::VectorXd beta_;
  std::vector<double> x_;
};

// A column's most common values (as text) with the fraction of rows holding each.
struct ValueFrequencies {
  std::vector<std::pair<std::string, double>> common;
  double null_fraction = 0.0;
};

// The fraction of labelled rows that are fraudulent by `frequencies`, 0 when they cannot
// tell: a value that is not a label, values left out of the list, no fraudulent value.
double PositiveFraction(const Feature& label, const std::optional<ValueFrequencies>& frequencies);

// Runs passes over the source; implemented by the glue (SPI) and by tests (in memory).
class PassRunner {
 public:
  virtual ~PassRunner() = default;
  virtual TrainingStats Statistics(const PassSpec& spec) = 0;
  virtual NewtonAccumulator Newton(const PassSpec& spec) = 0;
  // An exact holdout drawn by row position, when the runner reads rows with positions that
  // every pass sees alike (the glue: a table's tuple ids); nullopt: held out by row hash.
  virtual std::optional<RowSplit> DrawRowSplit(const PassSpec& /*spec*/) { return std::nullopt; }
  // The planner's estimate of the source's rows, 0 when unknown (a view, never analysed).
  virtual double EstimatedRows() { return 0.0; }
  // Bytes training may keep rows in (the glue: maintenance_work_mem); 0: always pass.
  virtual size_t MemoryBudget() { return 0; }
  // The label column's most common values and their frequencies, and the fraction of NULLs,
  // by the source's planner statistics (the glue: pg_stats); nullopt when there are none.
  virtual std::optional<ValueFrequencies> LabelFrequencies() { return std::nullopt; }
  // Threads the iterations over rows in memory may use (the glue: 1 + the parallel workers a
  // query may use, up to the cores).
  virtual int Threads() { return 1; }
  // A progress line, e.g. "pass 3: 800000 rows, loss 0.231". May throw to cancel.
  virtual void Progress(const std::string& message) = 0;
  // Throws when the statement is cancelled (the glue: CHECK_FOR_INTERRUPTS).
  virtual void CheckCancel() {}
  // One pass over the source in this thread: `row` hears every row's values (aligned with
  // the spec's reading model, label last) and its position (RowSplit::Key; kNoPosition
  // without a row split), until it returns false. Boosted trees read the rows this way.
  using RowSink = std::function<bool(const FeatureValue* values, uint64_t position)>;
  virtual void Stream(const PassSpec& /*spec*/, const RowSink& /*row*/) {
    throw Error(ErrorCode::kFeatureNotSupported, "this source cannot be read row by row");
  }
};

// The outcome of Train: the model (threshold and metrics set) and what to record about it.
struct TrainingResult {
  Model model;
  Metrics metrics;
  nlohmann::json training;  // rows, passes, convergence, options
  std::vector<std::string> notices;
};

// The statistics pass of `spec` (its row split drawn first when held out): the counts
// checked (throws Error(kDataException) without rows of both classes), holdout notices
// appended to result->notices, a progress line.
TrainingStats RunStatistics(PassSpec& spec, const TrainingOptions& options, PassRunner& runner, TrainingResult* result);

// Once result->model scores: the threshold chosen on the training rows' scores
// (evaluation.training_scores), the metrics of its evaluation rows (every row when none is
// held out), drift references, and the training record's counts and common options
// (result->training), as every algorithm records them.
void Conclude(const TrainingOptions& options, const Encoding& encoding, const TrainingStats& stats,
              const NewtonAccumulator& evaluation, PassRunner& runner, TrainingResult* result);

// Trains a model on `columns` to predict `label`; throws Error(kDataException) when the
// data cannot give one (no rows, one class, no usable feature).
TrainingResult Train(const std::vector<TrainingColumn>& columns, const std::string& label,
                     const TrainingOptions& options, PassRunner& runner);

}  // namespace pgfraud
