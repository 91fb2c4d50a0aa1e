// The statistics pass on a thread of its own (see statistics_pipeline.hpp).
#include "statistics_pipeline.hpp"

#include <cstring>

#include "blocked_signals.hpp"
#include "errors.hpp"

namespace pgfraud {

StatisticsPipeline::StatisticsPipeline(const PassContext& context, TrainingStats stats, size_t reserve_rows)
    : context_(context),
      width_(context.reading().features.size()),
      stats_(std::move(stats)),
      reserve_rows_(reserve_rows) {
  for (Batch& b : slots_) {
    b.kinds.resize(kBatchRows * width_);
    b.numbers.resize(kBatchRows * width_);
    b.spans.resize(kBatchRows * width_);
  }
  BlockedSignals blocked;
  thread_ = std::thread([this] { Run(); });
}

StatisticsPipeline::~StatisticsPipeline() { Stop(); }

void StatisticsPipeline::Stop() noexcept {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void StatisticsPipeline::Add(const FeatureValue* values) {
  if (finished_) throw Error(ErrorCode::kInternal, "statistics pipeline used after Finish");
  Batch& batch = slots_[filled_ % kSlots];
  const size_t base = batch.rows * width_;
  for (size_t i = 0; i < width_; ++i) {
    const FeatureValue& v = values[i];
    batch.kinds[base + i] = static_cast<uint8_t>(v.kind);
    switch (v.kind) {
      case FeatureValue::Kind::kNumber: batch.numbers[base + i] = v.number; break;
      case FeatureValue::Kind::kBool: batch.numbers[base + i] = v.flag ? 1.0 : 0.0; break;
      case FeatureValue::Kind::kText:
      case FeatureValue::Kind::kOther:
        batch.spans[base + i] = {static_cast<uint32_t>(batch.texts.size()), static_cast<uint32_t>(v.text.size())};
        batch.texts.append(v.text);
        break;
      default: break;
    }
  }
  // A batch holds at most 512 rows and, past 1 MB of text, goes at once (spans are 32-bit).
  if (++batch.rows == kBatchRows || batch.texts.size() > (size_t{1} << 20)) Publish();
}

void StatisticsPipeline::Publish() {
  std::unique_lock<std::mutex> lock(mutex_);
  ++filled_;
  work_.notify_one();
  room_.wait(lock, [this] { return filled_ - done_ < kSlots || error_ != nullptr; });
  if (error_) std::rethrow_exception(error_);
  Batch& next = slots_[filled_ % kSlots];
  next.rows = 0;
  next.texts.clear();
}

TrainingStats StatisticsPipeline::Finish() {
  if (finished_) throw Error(ErrorCode::kInternal, "statistics pipeline finished twice");
  finished_ = true;
  if (slots_[filled_ % kSlots].rows > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++filled_;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;  // after the batches handed over: the thread adds them all first
  }
  work_.notify_one();
  thread_.join();
  if (error_) std::rethrow_exception(error_);
  return std::move(stats_);
}

void StatisticsPipeline::Run() noexcept {
  try {
    stats_.store.Reserve(reserve_rows_);
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [this] { return done_ < filled_ || stopping_; });
      if (done_ == filled_) return;  // stopping, nothing left
      const Batch& batch = slots_[done_ % kSlots];
      lock.unlock();
      AddBatch(batch);
      lock.lock();
      ++done_;
      room_.notify_one();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    room_.notify_one();
  }
}

void StatisticsPipeline::AddBatch(const Batch& batch) {
  std::vector<FeatureValue> values(width_);
  for (size_t r = 0; r < batch.rows; ++r) {
    const size_t base = r * width_;
    for (size_t i = 0; i < width_; ++i) {
      const auto kind = static_cast<FeatureValue::Kind>(batch.kinds[base + i]);
      switch (kind) {
        case FeatureValue::Kind::kNumber: values[i] = FeatureValue::Number(batch.numbers[base + i]); break;
        case FeatureValue::Kind::kBool: values[i] = FeatureValue::Bool(batch.numbers[base + i] != 0.0); break;
        case FeatureValue::Kind::kText:
        case FeatureValue::Kind::kOther: {
          const std::string_view text(batch.texts.data() + batch.spans[base + i].first, batch.spans[base + i].second);
          values[i] = kind == FeatureValue::Kind::kText ? FeatureValue::Text(text) : FeatureValue::Other(text);
          break;
        }
        default: values[i] = FeatureValue::Missing();
      }
    }
    context_.AddToStatistics(stats_, values.data());
  }
}

}  // namespace pgfraud
