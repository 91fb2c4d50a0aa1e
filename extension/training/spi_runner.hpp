// SpiRunner: how train_fraud_model's trainer reads the source. Each pass is one SPI query of
// the fraud_train_pass aggregate (parallel where the planner allows), or a direct read of a
// plain table; boosted trees stream the rows through a cursor; progress goes out as NOTICEs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg_headers.hpp"
#include "linear/trainer.hpp"

namespace pgfraud {
namespace glue {

class SpiRunner : public PassRunner {
 public:
  // `query` runs a pass (its one parameter: the pass's spec as text). `direct`: the passes
  // read the table itself, which may then be scanned without the executor; `positions`: they
  // give each row's tuple id (held out by row position); `shards`: they run on the shards of
  // a Citus table.
  SpiRunner(std::string query, double estimated_rows, Oid relid, std::string label, bool direct, bool positions,
            bool shards = false);

  double EstimatedRows() override { return estimated_rows_; }
  std::optional<ValueFrequencies> LabelFrequencies() override;
  size_t MemoryBudget() override;
  int Threads() override;
  TrainingStats Statistics(const PassSpec& spec) override;
  std::optional<RowSplit> DrawRowSplit(const PassSpec& spec) override;
  NewtonAccumulator Newton(const PassSpec& spec) override;
  void CheckCancel() override;
  void Stream(const PassSpec& spec, const RowSink& row) override;
  void Progress(const std::string& message) override;

  // The query Stream reads (the source's columns as the reading model reads them, and the
  // tuple id when `positions`).
  void SetStreamQuery(std::string query, bool positions) {
    stream_query_ = std::move(query);
    stream_positions_ = positions;
  }

  // Per pass over the shards of a Citus table, the bytes of state received from them.
  const std::vector<int64_t>& ShardBytes() const { return shard_bytes_; }

 private:
  std::vector<uint8_t> RunPass(const PassSpec& spec);

  std::string query_;
  std::string stream_query_;
  bool stream_positions_ = false;
  bool direct_;                       // the passes read the table itself (not a query over it)
  bool positions_;                    // the passes give each row's tuple id (held out by row position)
  bool shards_;                       // the passes run on the shards of a Citus table
  std::vector<int64_t> shard_bytes_;  // per pass over shards: the bytes received
  double estimated_rows_;
  Oid relid_;
  std::string label_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace glue
}  // namespace pgfraud
