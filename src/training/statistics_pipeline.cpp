// The statistics pass on a thread of its own (see statistics_pipeline.hpp).
#include "training/statistics_pipeline.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <system_error>

#include "common/blocked_signals.hpp"
#include "common/errors.hpp"
#include "common/page_populator.hpp"

namespace pgfraud {

StatisticsPipeline::StatisticsPipeline(const PassContext& context, TrainingStats stats, size_t reserve_rows)
    : context_(context),
      width_(context.reading().features.size()),
      batch_rows_(std::max<size_t>(1, std::min(kBatchRows, kBatchValues / std::max<size_t>(width_, 1)))),
      stats_(std::move(stats)),
      reserve_rows_(reserve_rows),
      plain_(TrainingStats::PlainKinds(context.reading())) {
  for (Batch& b : slots_) {
    b.kinds.resize(batch_rows_ * width_);
    b.numbers.resize(batch_rows_ * width_);
    b.spans.resize(batch_rows_ * width_);
    b.positions.assign(batch_rows_, RowSplit::kNoPosition);
  }
  StartBatch();
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

void StatisticsPipeline::SetText(size_t i, std::string_view text) {
  const size_t k = static_cast<size_t>(kinds_ - current_->kinds.data()) + i;
  current_->spans[k] = {static_cast<uint32_t>(current_->texts.size()), static_cast<uint32_t>(text.size())};
  current_->texts.append(text);
}

void StatisticsPipeline::StartBatch() {
  current_ = &slots_[filled_ % kSlots];
  current_->rows = 0;
  current_->texts.clear();
  kinds_ = current_->kinds.data();
  numbers_ = current_->numbers.data();
}

void StatisticsPipeline::Publish() {
  if (finished_) throw Error(ErrorCode::kInternal, "statistics pipeline used after Finish");
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ++filled_;
    if (thread_waits_ && filled_ - done_ >= kWakeBatches) work_.notify_one();
    if (filled_ - done_ == kSlots) {  // every slot full: wait until half are free again
      caller_waits_ = true;
      room_.wait(lock, [this] { return filled_ - done_ <= kSlots - kWakeBatches || error_ != nullptr; });
      caller_waits_ = false;
    }
    if (error_) std::rethrow_exception(error_);
  }
  StartBatch();
}

TrainingStats StatisticsPipeline::Finish() {
  if (finished_) throw Error(ErrorCode::kInternal, "statistics pipeline finished twice");
  finished_ = true;
  if (current_->rows > 0) {
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
    // The store's pages are populated ahead of the rows written to them (page_populator.hpp).
    std::unique_ptr<PagePopulator> populator;
    try {
      populator = std::make_unique<PagePopulator>(stats_.store.ValueRoom(), stats_.store.ValueRoomBytes());
    } catch (const std::system_error&) {  // no thread: the rows fault their pages in
    }
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      if (done_ == filled_) {  // nothing to add: wait until half the slots are full
        if (stopping_) return;
        thread_waits_ = true;
        work_.wait(lock, [this] { return filled_ - done_ >= kWakeBatches || stopping_; });
        thread_waits_ = false;
        if (done_ == filled_) return;  // stopping, nothing left
      }
      const Batch& batch = slots_[done_ % kSlots];
      lock.unlock();
      AddBatch(batch);
      lock.lock();
      ++done_;
      if (caller_waits_ && filled_ - done_ <= kSlots - kWakeBatches) room_.notify_one();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    room_.notify_one();
  }
}

namespace {

// Whether a row of the batch is plain (TrainingStats::AddPlain): the features' kinds are
// `plain` and their numbers finite; the label is anything but text.
bool IsPlain(const std::vector<uint8_t>& plain, const uint8_t* kinds, const double* numbers) {
  const size_t features = plain.size() - 1;
  if (std::memcmp(kinds, plain.data(), features) != 0) return false;
  const auto label = static_cast<FeatureValue::Kind>(kinds[features]);
  if (label == FeatureValue::Kind::kText || label == FeatureValue::Kind::kOther) return false;
  double zero = 0.0;  // x - x is 0 for a finite x and NaN for an infinity or NaN
  for (size_t i = 0; i < features; ++i) zero += numbers[i] - numbers[i];
  return zero == 0.0;
}

}  // namespace

void StatisticsPipeline::AddBatch(const Batch& batch) {
  std::vector<FeatureValue> values(width_);
  for (size_t r = 0; r < batch.rows; ++r) {
    const size_t base = r * width_;
    if (!plain_.empty() && IsPlain(plain_, &batch.kinds[base], &batch.numbers[base])) {
      context_.AddPlainToStatistics(stats_, &batch.kinds[base], &batch.numbers[base], batch.positions[r]);
      continue;
    }
    for (size_t i = 0; i < width_; ++i) {
      const auto kind = static_cast<FeatureValue::Kind>(batch.kinds[base + i]);
      switch (kind) {
        case FeatureValue::Kind::kNumber: values[i].SetNumber(batch.numbers[base + i]); break;
        case FeatureValue::Kind::kBool: values[i].SetBool(batch.numbers[base + i] != 0.0); break;
        case FeatureValue::Kind::kText:
        case FeatureValue::Kind::kOther: {
          const std::string_view text(batch.texts.data() + batch.spans[base + i].first, batch.spans[base + i].second);
          if (kind == FeatureValue::Kind::kText) {
            values[i].SetText(text);
          } else {
            values[i].SetOther(text);
          }
          break;
        }
        default: values[i].SetMissing();
      }
    }
    context_.AddToStatistics(stats_, values.data(), batch.positions[r]);
  }
}

}  // namespace pgfraud
