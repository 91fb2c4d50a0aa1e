// Boosting rounds on a thread of their own, fed rows by the caller through XGBoost's data
// iterator (QuantileDMatrix from callbacks, tree_method=hist): XGBoost asks for a pass over
// the rows whenever it needs one (it sketches, then builds its quantised matrix), the caller
// (the backend) reads the table and hands the rows over in batches of float32 inputs, and
// XGBoost keeps only its quantised copy (one byte a value, 256 bins), never the rows.
//
// The thread and XGBoost's OpenMP threads, which it starts, run with every signal blocked
// and never call PostgreSQL; XGBoost's callbacks only wait for batches. The caller waits
// with a timeout and calls its `idle` function (which may throw: a cancel) between waits.
// Stopping (an error, a cancel, destruction) ends the thread within one boosting round.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "trees/xgboost_library.hpp"

namespace pgfraud {

struct BoosterParams {
  int rounds = 100;
  std::vector<std::pair<std::string, std::string>> booster;  // XGBoosterSetParam's, in order
  int threads = 1;                                           // nthread, for the matrix too
  int max_bin = 256;
  size_t inputs = 0;  // columns of a row
  size_t batch_rows = 32768;
};

class BoosterTrainer {
 public:
  // Starts the thread; it waits for the first pass of rows.
  BoosterTrainer(const XGBoostLibrary& lib, BoosterParams params);
  ~BoosterTrainer();  // stops and joins
  BoosterTrainer(const BoosterTrainer&) = delete;
  BoosterTrainer& operator=(const BoosterTrainer&) = delete;

  enum class Event { kPassWanted, kRound, kDone };
  // Waits for what the thread needs or has done: a pass of rows (read them: Row/EndRow,
  // then EndPass), a boosting round finished (*round: how many), or the model is ready.
  // Rethrows the thread's error. `idle` runs every ~100 ms while waiting.
  Event Wait(const std::function<void()>& idle, int* round);

  // The inputs of the next row of the pass (params.inputs floats, NaN for missing).
  float* Row() { return &filling_->x[filling_->rows * params_.inputs]; }
  // Ends the row Row() was filled for; false when XGBoost restarted its pass (read no more
  // of this one: the next Wait asks for a new one).
  bool EndRow(float label, float weight, const std::function<void()>& idle) {
    filling_->label[filling_->rows] = label;
    filling_->weight[filling_->rows] = weight;
    if (++filling_->rows < params_.batch_rows) return true;
    return Deliver(idle);
  }
  // Ends the pass; false when XGBoost restarted it before its end (it asks for another).
  bool EndPass(const std::function<void()>& idle);

  // The booster as XGBoost saves it (JSON), after kDone.
  std::string TakeModel() { return std::move(model_); }
  // After kDone: the margin XGBoost predicts for each row of its matrix (the training rows,
  // in the order it read them) and each row's label. Its prediction on the quantised matrix
  // equals its prediction on the rows themselves, and pg_fraud's evaluator gives XGBoost's.
  std::vector<float> TakeMargins() { return std::move(margins_); }
  std::vector<float> TakeLabels() { return std::move(labels_); }
  // Rows of the complete passes (every one must give the first's count: a pass giving more
  // or fewer is refused with Error(kDataException) before XGBoost builds on it).
  uint64_t Rows() const { return pass_rows_; }

 private:
  struct Batch {
    std::vector<float> x, label, weight;
    size_t rows = 0;
    uint64_t pass = 0;
  };
  std::unique_ptr<Batch> NewBatch();
  bool Deliver(const std::function<void()>& idle);
  [[noreturn]] void Refuse(std::unique_lock<std::mutex>& lock, const std::string& message);
  // Waits on the condition, calling idle every ~100 ms with the lock released.
  template <typename Ready>
  void WaitFor(std::unique_lock<std::mutex>& lock, const std::function<void()>& idle, Ready ready);

  void Run() noexcept;
  // XGBoost's callbacks (on the thread).
  static void ResetCallback(DataIterHandle self) noexcept;
  static int NextCallback(DataIterHandle self) noexcept;
  void Reset();
  int Next();
  void Fail(std::exception_ptr error) noexcept;
  void Train();

  const XGBoostLibrary& lib_;
  BoosterParams params_;
  DMatrixHandle proxy_ = nullptr;

  std::mutex mutex_;
  std::condition_variable changed_;
  // XGBoost's side: the pass it reads (0: none), the batch it holds until its next call.
  uint64_t active_pass_ = 0, passes_ = 0, ended_pass_ = 0;
  std::unique_ptr<Batch> ready_;    // handed over, not yet taken
  std::unique_ptr<Batch> current_;  // set on the proxy (the thread's)
  std::vector<std::unique_ptr<Batch>> spare_;
  // The caller's side.
  uint64_t served_pass_ = 0;        // the pass being read
  std::unique_ptr<Batch> filling_;  // the caller's
  uint64_t counted_rows_ = 0, pass_rows_ = 0;
  int rounds_done_ = 0, rounds_reported_ = 0;
  bool stop_ = false, done_ = false;
  std::exception_ptr error_;
  std::string model_;
  std::vector<float> margins_, labels_;
  std::thread thread_;
};

}  // namespace pgfraud
