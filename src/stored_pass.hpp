// A Newton pass over rows kept in memory (RowStore) instead of over the table: the same sums
// a pass of the aggregate would give, with the rows encoded block by block.
#pragma once

#include <Eigen/Dense>

#include "encoding.hpp"
#include "newton.hpp"
#include "row_store.hpp"

namespace pgfraud {

struct StoredPassSpec {
  const Encoding* encoding = nullptr;
  double negative_weight = 1.0;
  double positive_weight = 1.0;
  bool with_hessian = true;
  bool evaluate_all = false;  // in-sample metrics: every row is an evaluation row
  bool with_evaluation = true;  // false: training sums only (iterations before the last)
  int hessian_stride = 1;       // the Hessian from every stride-th row (see AddTrainingBlock)
};

// The stride that leaves at least ~250,000 rows in the Hessian: its relative error, about
// sqrt(dim / rows), then costs Newton a fraction of a percent of its convergence rate.
int HessianStride(size_t rows) noexcept;

// The sums at `beta` over the store's rows: training rows add to the loss, gradient and
// Hessian, holdout rows (every row with evaluate_all) to the evaluation.
NewtonAccumulator StoredPass(const RowStore& store, const StoredPassSpec& spec, const Eigen::VectorXd& beta);

}  // namespace pgfraud
