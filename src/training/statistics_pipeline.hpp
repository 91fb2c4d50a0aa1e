// The statistics pass in two stages: the caller (the backend, reading rows from the executor)
// hands each row over, and a thread of its own adds the rows to the statistics (moments,
// categories, samples, the rows kept in memory) while the caller reads the next ones. Rows
// cross in batches; their values are copied (text too), so the caller's buffers may change
// as soon as Add returns. The rows are added in the order given: the statistics are the same
// as those of TrainingStats::Add called in the caller's thread.
//
// The thread never calls PostgreSQL and runs with every signal blocked. An error it meets (a
// bad value) is rethrown by the next Add or by Finish. Destroying a pipeline that was not
// finished (an error or a cancel of the query) stops and joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/feature_value.hpp"
#include "linear/trainer.hpp"

namespace pgfraud {

class StatisticsPipeline {
 public:
  // Adds to `stats` as `context` does (its reading model, seed and holdout), first reserving
  // room for `reserve_rows` rows in its store on the thread. `context` must outlive this.
  StatisticsPipeline(const PassContext& context, TrainingStats stats, size_t reserve_rows);
  ~StatisticsPipeline();
  StatisticsPipeline(const StatisticsPipeline&) = delete;
  StatisticsPipeline& operator=(const StatisticsPipeline&) = delete;

  // Hands over one row (values aligned with the reading model, label last) and its position
  // (PassContext::AddToStatistics).
  void Add(const FeatureValue* values, uint64_t position = RowSplit::kNoPosition) {
    for (size_t i = 0; i < width_; ++i) Set(i, values[i]);
    EndRow(position);
  }
  // The same for a reader with the values at hand: Set(i, value) for every i, then EndRow().
  void Set(size_t i, const FeatureValue& v) {
    kinds_[i] = static_cast<uint8_t>(v.kind);
    switch (v.kind) {
      case FeatureValue::Kind::kNumber: numbers_[i] = v.number; break;
      case FeatureValue::Kind::kBool: numbers_[i] = v.flag ? 1.0 : 0.0; break;
      case FeatureValue::Kind::kText:
      case FeatureValue::Kind::kOther: SetText(i, v.text); break;
      default: break;
    }
  }
  void EndRow(uint64_t position = RowSplit::kNoPosition) {
    current_->positions[current_->rows] = position;
    // A full batch goes, and one past 1 MB of text at once (spans are 32-bit).
    if (++current_->rows == batch_rows_ || current_->texts.size() > (size_t{1} << 20)) {
      Publish();
    } else {
      kinds_ += width_;
      numbers_ += width_;
    }
  }
  // Waits until every row is added and returns the statistics; rethrows the thread's error.
  TrainingStats Finish();

 private:
  // A batch holds up to 512 rows of at most 16,384 values in all (wide rows: fewer rows), so
  // the slots take about 2 MB whatever the width.
  static constexpr size_t kBatchRows = 512;
  static constexpr size_t kBatchValues = 16384;
  static constexpr size_t kSlots = 8;
  // A side that waits (the thread for work, the caller for room) is woken when half the
  // slots are ready for it, not at each batch: a wake-up of a thread asleep on another core
  // costs tens of microseconds on a virtual machine.
  static constexpr size_t kWakeBatches = kSlots / 2;

  // Rows copied out of the caller's buffers: per value its kind and number (a boolean as
  // 0/1), and for text the span of its bytes in `texts`.
  struct Batch {
    size_t rows = 0;
    std::vector<uint8_t> kinds;
    std::vector<double> numbers;
    std::vector<std::pair<uint32_t, uint32_t>> spans;
    std::string texts;
    std::vector<uint64_t> positions;  // per row (PassContext::AddToStatistics)
  };

  void Run() noexcept;                // the thread
  void AddBatch(const Batch& batch);  // on the thread
  void Publish();                     // hands the batch being filled to the thread
  void SetText(size_t i, std::string_view text);
  void StartBatch();  // points the writer at the batch filled next
  void Stop() noexcept;

  const PassContext& context_;
  const size_t width_;
  const size_t batch_rows_;
  TrainingStats stats_;
  size_t reserve_rows_;
  const std::vector<uint8_t> plain_;  // the kinds of a plain row (TrainingStats::PlainKinds)

  Batch slots_[kSlots];
  Batch* current_ = nullptr;  // the batch being filled, and its row being written:
  uint8_t* kinds_ = nullptr;
  double* numbers_ = nullptr;
  uint64_t filled_ = 0;  // batches handed over (the caller fills slots_[filled_ % kSlots])
  uint64_t done_ = 0;    // batches the thread has added
  bool stopping_ = false;
  bool thread_waits_ = false;  // the thread waits for work_
  bool caller_waits_ = false;  // the caller waits for room_
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable work_, room_;
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace pgfraud
