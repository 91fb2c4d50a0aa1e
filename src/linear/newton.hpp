// Newton's method for L2-regularised logistic regression, as a mergeable accumulator.
//
// Why Newton (IRLS) and not L-BFGS: each iteration is one pass over the table, and a pass
// is the expensive part in a database; Newton converges in 5-10 passes where L-BFGS needs
// dozens, and the gradient and Hessian are sums over rows, so workers accumulate them apart
// and PostgreSQL's combine function adds them. The Hessian costs dim^2 memory, not rows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <Eigen/Dense>

#include "evaluation/metrics.hpp"

namespace pgfraud {

// Sums over the rows of one pass at fixed coefficients beta.
class NewtonAccumulator {
 public:
  NewtonAccumulator() = default;
  NewtonAccumulator(size_t dim, bool with_hessian);

  // Adds a training row: x (dim entries), label, sample weight, and its logit beta.x.
  void AddTraining(const double* x, bool label, double weight, double logit);
  // Adds a block of rows at once (rows in memory): x row-major (rows x dim), labels 0/1, the
  // weight of each row (0 for a row that does not train) and its logit. `training` is how
  // many of the rows have a weight. The Hessian takes every `hessian_stride`-th row of the
  // block, weighted by the stride (a subsampled Hessian: the gradient stays exact, so Newton
  // still converges to the same optimum, and the dim^2 work per row is divided by the stride).
  using Block = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  void AddTrainingBlock(const Block& x, const Eigen::ArrayXd& labels, const Eigen::ArrayXd& weights,
                        const Eigen::ArrayXd& logits, double training, int hessian_stride = 1);
  // Adds an evaluation row (holdout, or every row for in-sample metrics).
  void AddEvaluation(bool label, double logit);
  // Folds buffered rows into the Hessian; call before reading or merging.
  void Flush();
  void Merge(NewtonAccumulator& other);

  std::vector<uint8_t> Serialize();
  static NewtonAccumulator Deserialize(const uint8_t* data, size_t size);

  size_t dim = 0;
  bool with_hessian = true;
  // Whether AddTraining and AddEvaluation fill the score histograms (the sums are kept either
  // way): a pass over a table that cannot be the last skips them (PassSpec::scores).
  bool scores = true;
  double training_rows = 0;
  double loss = 0;           // weighted sum of log-loss over training rows
  Eigen::VectorXd gradient;  // of the summed weighted log-loss
  Eigen::MatrixXd hessian;   // lower triangle
  double evaluation_rows = 0;
  double evaluation_loss = 0;  // unweighted sum of log-loss over evaluation rows
  ScoreHistogram evaluation;
  // The training rows' scores (unweighted), where thresholds are chosen: away from the
  // evaluation rows, whose precision and recall at the threshold would be optimistic.
  // Filled by AddTraining and StoredEvaluation (not by blocks of a Newton iteration).
  ScoreHistogram training_scores;

 private:
  static constexpr int kBlock = 256;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> block_;  // kBlock x dim
  int buffered_ = 0;
};

// The regularised objective: summed weighted log-loss + l2/2 * |beta without intercept|^2.
double Objective(double loss, const Eigen::VectorXd& beta, double l2);

// The Newton step -H^-1 g of the regularised objective, and the Newton decrement g.H^-1.g.
struct NewtonStep {
  Eigen::VectorXd delta;
  double decrement = 0.0;
};
NewtonStep ComputeNewtonStep(const NewtonAccumulator& pass, const Eigen::VectorXd& beta, double l2);

// Damped Newton on the regularised objective. `pass(beta, exact)` returns the sums at beta (a
// pass over the table, or over rows in memory; with `exact` false it may subsample the
// Hessian). A step that goes uphill is retried at half its length, up to 30 times in one
// iteration, and every later pass is exact; an uphill step is never taken. Stops when
// decrement/2 <= tol * max(1, |objective|), after max_iter accepted iterations, when no
// fraction of a step decreases the objective (stalled, at the best point seen), or at a
// non-finite objective at the start. `report` hears each accepted iteration.
struct NewtonRun {
  Eigen::VectorXd beta;    // converged: where the last pass ran; else after the last step
  NewtonAccumulator last;  // converged: the pass at beta (its evaluation sums hold)
  int passes = 0, iterations = 0, halvings = 0;
  bool converged = false;
  bool stalled = false;  // no fraction of the last Newton step decreased the objective
  bool exact = false;    // the passes after a halving ask for the exact Hessian
  bool finite = true;    // false: the objective at the starting point overflowed
  double objective = 0.0;
};
using PassAt = std::function<NewtonAccumulator(const Eigen::VectorXd& beta, bool exact)>;
using IterationReport = std::function<void(int passes, int iteration, double objective, double decrement)>;
NewtonRun Minimise(Eigen::VectorXd beta, double l2, double tol, int max_iter, const PassAt& pass,
                   const IterationReport& report);

}  // namespace pgfraud
