// Boosting rounds on a thread, rows handed over by the caller (see the header).
#include "trees/booster_trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "common/blocked_signals.hpp"
#include "common/errors.hpp"

namespace pgfraud {

BoosterTrainer::BoosterTrainer(const XGBoostLibrary& lib, BoosterParams params)
    : lib_(lib), params_(std::move(params)) {
  filling_ = NewBatch();
  BlockedSignals blocked;  // the thread, and the OpenMP threads it starts, inherit the mask
  thread_ = std::thread([this] { Run(); });
}

BoosterTrainer::~BoosterTrainer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<BoosterTrainer::Batch> BoosterTrainer::NewBatch() {
  auto b = std::make_unique<Batch>();
  b->x.resize(params_.batch_rows * params_.inputs);
  b->label.resize(params_.batch_rows);
  b->weight.resize(params_.batch_rows);
  return b;
}

template <typename Ready>
void BoosterTrainer::WaitFor(std::unique_lock<std::mutex>& lock, const std::function<void()>& idle, Ready ready) {
  while (!ready()) {
    if (changed_.wait_for(lock, std::chrono::milliseconds(100)) == std::cv_status::timeout) {
      lock.unlock();
      idle();  // may throw (a cancel): the lock is not held
      lock.lock();
    }
  }
}

BoosterTrainer::Event BoosterTrainer::Wait(const std::function<void()>& idle, int* round) {
  std::unique_lock<std::mutex> lock(mutex_);
  Event event = Event::kDone;
  WaitFor(lock, idle, [&] {
    if (error_) return true;
    if (active_pass_ != 0 && active_pass_ != served_pass_) {
      event = Event::kPassWanted;
      return true;
    }
    if (rounds_done_ > rounds_reported_) {
      event = Event::kRound;
      return true;
    }
    return done_;
  });
  if (error_) std::rethrow_exception(error_);
  if (event == Event::kPassWanted) {
    served_pass_ = active_pass_;
    filling_->rows = 0;
    filling_->pass = served_pass_;
    counted_rows_ = 0;
  } else if (event == Event::kRound) {
    rounds_reported_ = rounds_done_;
    *round = rounds_reported_;
  }
  return event;
}

// Stops XGBoost (its next callback ends the pass, its thread returns) and raises `message`:
// a source whose passes differ must never reach a matrix sized by an earlier pass.
void BoosterTrainer::Refuse(std::unique_lock<std::mutex>& lock, const std::string& message) {
  if (!error_) {
    try {
      throw Error(ErrorCode::kDataException, message,
                  "Boosted trees read the source once per XGBoost pass; train on a table, or on a view "
                  "without volatile functions, whose rows do not change during training.");
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  stop_ = true;
  changed_.notify_all();
  lock.unlock();
  std::rethrow_exception(error_);
}

bool BoosterTrainer::Deliver(const std::function<void()>& idle) {
  std::unique_lock<std::mutex> lock(mutex_);
  WaitFor(lock, idle, [&] { return !ready_ || active_pass_ != served_pass_ || error_ || stop_; });
  if (error_) std::rethrow_exception(error_);
  if (pass_rows_ > 0 && counted_rows_ + filling_->rows > pass_rows_ && active_pass_ == served_pass_) {
    Refuse(lock, "the source gave more training rows on a later pass of XGBoost's than on the first");
  }
  if (active_pass_ != served_pass_ || stop_) {  // XGBoost restarted its pass: this one is over
    filling_->rows = 0;
    return false;
  }
  counted_rows_ += filling_->rows;
  ready_ = std::move(filling_);
  if (!spare_.empty()) {
    filling_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    lock.unlock();
    filling_ = NewBatch();
    lock.lock();
  }
  filling_->rows = 0;
  filling_->pass = served_pass_;
  changed_.notify_all();
  return true;
}

bool BoosterTrainer::EndPass(const std::function<void()>& idle) {
  if (filling_->rows > 0 && !Deliver(idle)) return false;
  std::unique_lock<std::mutex> lock(mutex_);
  const bool whole = active_pass_ == served_pass_;
  if (whole) {
    if (pass_rows_ > 0 && counted_rows_ != pass_rows_) {
      Refuse(lock, "the source gave fewer training rows on a later pass of XGBoost's than on the first");
    }
    ended_pass_ = served_pass_;
    pass_rows_ = counted_rows_;
  }
  changed_.notify_all();
  return whole;
}

// XGBoost's callbacks: nothing thrown may cross into XGBoost (a C API); an error stops the
// training instead, and the caller meets it at its next wait.
void BoosterTrainer::ResetCallback(DataIterHandle self) noexcept {
  auto* t = static_cast<BoosterTrainer*>(self);
  try {
    t->Reset();
  } catch (...) {
    t->Fail(std::current_exception());
  }
}

int BoosterTrainer::NextCallback(DataIterHandle self) noexcept {
  auto* t = static_cast<BoosterTrainer*>(self);
  try {
    return t->Next();
  } catch (...) {
    t->Fail(std::current_exception());
    return 0;
  }
}

void BoosterTrainer::Fail(std::exception_ptr error) noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::move(error);
    stop_ = true;  // the matrix would miss rows: nothing trains on it
  }
  changed_.notify_all();
}

void BoosterTrainer::Reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (current_) spare_.push_back(std::move(current_));
  if (ready_) spare_.push_back(std::move(ready_));
  active_pass_ = 0;  // a pass being read is abandoned; the next call starts another
  changed_.notify_all();
}

// 1 with the next batch set on the proxy, 0 at the end of the pass (or when stopping).
int BoosterTrainer::Next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (current_) spare_.push_back(std::move(current_));  // XGBoost is done with it
  if (active_pass_ == 0) {
    active_pass_ = ++passes_;
    changed_.notify_all();
  }
  changed_.wait(lock, [&] { return stop_ || (ready_ && ready_->pass == active_pass_) || ended_pass_ == active_pass_; });
  if (stop_) return 0;
  if (!ready_ || ready_->pass != active_pass_) {
    active_pass_ = 0;
    return 0;
  }
  current_ = std::move(ready_);
  changed_.notify_all();
  const Batch& b = *current_;
  lock.unlock();
  char interface[256];
  std::snprintf(interface, sizeof interface,
                "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", \"version\": 3}",
                reinterpret_cast<uintptr_t>(b.x.data()), b.rows, params_.inputs);
  const bst_ulong rows = static_cast<bst_ulong>(b.rows);
  if (lib_.ProxyDMatrixSetDataDense(proxy_, interface) != 0 ||
      lib_.DMatrixSetFloatInfo(proxy_, "label", b.label.data(), rows) != 0 ||
      lib_.DMatrixSetFloatInfo(proxy_, "weight", b.weight.data(), rows) != 0) {
    lib_.Check(-1, "take a batch of rows");  // throws: NextCallback stops the training
  }
  return 1;
}

namespace {

// XGBoost's handles, freed when the thread leaves Train however it leaves.
struct Handles {
  const XGBoostLibrary& lib;
  DMatrixHandle* proxy;
  DMatrixHandle matrix = nullptr;
  BoosterHandle booster = nullptr;
  ~Handles() {
    if (booster != nullptr) lib.BoosterFree(booster);
    if (matrix != nullptr) lib.DMatrixFree(matrix);
    if (*proxy != nullptr) lib.DMatrixFree(*proxy);
    *proxy = nullptr;
  }
};

}  // namespace

void BoosterTrainer::Train() {
  Handles h{lib_, &proxy_};
  lib_.Check(lib_.ProxyDMatrixCreate(&proxy_), "create its proxy matrix");
  const std::string config = "{\"missing\": NaN, \"nthread\": " + std::to_string(params_.threads) +
                             ", \"max_bin\": " + std::to_string(params_.max_bin) + "}";
  const int rc = lib_.QuantileDMatrixCreateFromCallback(this, proxy_, nullptr, ResetCallback, NextCallback,
                                                        config.c_str(), &h.matrix);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;  // stopped (or a batch failed: error_ is set) while XGBoost read rows
    // XGBoost reads no more rows: a pass the caller is still reading (XGBoost returned before
    // its end) is over, and a batch it did not take goes back.
    active_pass_ = 0;
    if (ready_) spare_.push_back(std::move(ready_));
    changed_.notify_all();
  }
  lib_.Check(rc, "build its matrix from the rows");
  lib_.Check(lib_.BoosterCreate(&h.matrix, 1, &h.booster), "create a booster");
  for (const auto& [name, value] : params_.booster) {
    lib_.Check(lib_.BoosterSetParam(h.booster, name.c_str(), value.c_str()), ("set parameter " + name).c_str());
  }
  for (int i = 0; i < params_.rounds; ++i) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
    }
    lib_.Check(lib_.BoosterUpdateOneIter(h.booster, i, h.matrix), "run a boosting round");
    std::lock_guard<std::mutex> lock(mutex_);
    rounds_done_ = i + 1;
    changed_.notify_all();
  }
  bst_ulong length = 0;
  const char* bytes = nullptr;
  lib_.Check(lib_.BoosterSaveModelToBuffer(h.booster, "{\"format\": \"json\"}", &length, &bytes), "save the model");
  std::string model(bytes, length);
  // The training rows' margins (type 1) and labels, from the matrix.
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0, rows = 0;
  const float* margins = nullptr;
  const float* labels = nullptr;
  lib_.Check(lib_.BoosterPredictFromDMatrix(h.booster, h.matrix,
                                            "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
                                            "\"iteration_end\": 0, \"strict_shape\": false}",
                                            &shape, &dims, &margins),
             "predict the training rows");
  std::vector<float> margin_copy(margins, margins + (dims > 0 ? shape[0] : 0));
  lib_.Check(lib_.DMatrixGetFloatInfo(h.matrix, "label", &rows, &labels), "read the training labels");
  if (rows != margin_copy.size()) throw Error(ErrorCode::kInternal, "XGBoost's margins and labels differ in count");
  std::vector<float> label_copy(labels, labels + rows);
  std::lock_guard<std::mutex> lock(mutex_);
  model_ = std::move(model);
  margins_ = std::move(margin_copy);
  labels_ = std::move(label_copy);
  done_ = true;
  changed_.notify_all();
}

void BoosterTrainer::Run() noexcept {
  try {
    Train();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
  changed_.notify_all();
}

}  // namespace pgfraud
