// A Newton pass over rows kept in memory (RowStore) instead of over the table: the same sums
// a pass of the aggregate would give, with the rows encoded block by block.
#pragma once

#include <Eigen/Dense>

#include "linear/encoding.hpp"
#include "linear/newton.hpp"
#include "training/row_store.hpp"

namespace pgfraud {

struct StoredPassSpec {
  const Encoding* encoding = nullptr;
  double negative_weight = 1.0;
  double positive_weight = 1.0;
  bool with_hessian = true;
  int hessian_stride = 1;                 // the Hessian from every stride-th row (see AddTrainingBlock)
  std::vector<double>* logits = nullptr;  // when set: every row's logit at beta, in store order
  int threads = 1;                        // rows split across this many threads (parallel_ranges.hpp)
};

// The stride that leaves at least ~250,000 rows in the Hessian: its relative error, about
// sqrt(dim / rows), then costs Newton a fraction of a percent of its convergence rate.
int HessianStride(size_t rows) noexcept;

// The training sums at `beta` over the store's training rows (loss, gradient, Hessian); the
// evaluation is StoredEvaluation's, from the logits of the final iteration. With threads, each
// sums a range of whole blocks (the same rows in the Hessian) and the sums are merged in order.
NewtonAccumulator StoredPass(const RowStore& store, const StoredPassSpec& spec, const Eigen::VectorXd& beta);

// Encodes the given rows of the store into x (resized to rows x dim), as Encoding::Encode.
void EncodeStoredRows(const RowStore& store, const Encoding& encoding, const std::vector<size_t>& rows,
                      NewtonAccumulator::Block& x);

// The evaluation sums from the logits a StoredPass wrote (holdout rows; every row with
// `evaluate_all`): the metrics at a converged beta without encoding the rows again.
NewtonAccumulator StoredEvaluation(const RowStore& store, const std::vector<double>& logits, size_t dim,
                                   bool evaluate_all);

}  // namespace pgfraud
