// Gradient and Hessian sums, blocked so the Hessian update is one rank-k product per 256 rows.
#include "linear/newton.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "model/model.hpp"

namespace pgfraud {

NewtonAccumulator::NewtonAccumulator(size_t d, bool second_order)
    : dim(d), with_hessian(second_order), gradient(Eigen::VectorXd::Zero(static_cast<long>(d))) {
  if (with_hessian) {
    hessian = Eigen::MatrixXd::Zero(static_cast<long>(d), static_cast<long>(d));
    block_.resize(kBlock, static_cast<long>(d));
  }
}

void NewtonAccumulator::AddTraining(const double* x, bool label, double weight, double logit) {
  const double p = Model::Sigmoid(logit);
  const double y = label ? 1.0 : 0.0;
  training_rows += 1;
  loss += weight * (Softplus(logit) - y * logit);
  if (scores) training_scores.Add(logit, label);
  Eigen::Map<const Eigen::VectorXd> row(x, static_cast<long>(dim));
  gradient.noalias() += (weight * (p - y)) * row;
  if (!with_hessian) return;
  // Row scaled by sqrt(w): X'WX = sum of (sqrt(w) x)(sqrt(w) x)'.
  block_.row(buffered_) = std::sqrt(weight * p * (1.0 - p)) * row.transpose();
  if (++buffered_ == kBlock) Flush();
}

void NewtonAccumulator::AddTrainingBlock(const Block& x, const Eigen::ArrayXd& y, const Eigen::ArrayXd& w,
                                         const Eigen::ArrayXd& z, double training, int hessian_stride) {
  // The sums of AddTraining, vectorised: with e = exp(-|z|), sigmoid(z) is 1/(1+e) for z >= 0
  // and e/(1+e) below, and softplus(z) = max(z, 0) + log(1 + e). (log rather than log1p, which
  // Eigen does not vectorise: for e below 1e-16 a row's loss is off by less than e.)
  const Eigen::ArrayXd e = (-z.abs()).exp();
  const Eigen::ArrayXd one_plus = 1.0 + e;
  const Eigen::ArrayXd p = (z >= 0).select(one_plus.inverse(), e / one_plus);
  training_rows += training;
  loss += (w * (z.max(0.0) + one_plus.log() - y * z)).sum();
  gradient.noalias() += x.transpose() * (w * (p - y)).matrix();
  if (!with_hessian) return;
  Flush();
  if (hessian_stride <= 1) {
    const Eigen::ArrayXd s = (w * p * (1.0 - p)).sqrt();
    hessian.selfadjointView<Eigen::Lower>().rankUpdate((x.array().colwise() * s).matrix().transpose());
    return;
  }
  const long rows = (x.rows() + hessian_stride - 1) / hessian_stride;
  Block sampled(rows, x.cols());
  for (long r = 0; r < rows; ++r) {
    const long i = r * hessian_stride;
    sampled.row(r) = std::sqrt(hessian_stride * w[i] * p[i] * (1.0 - p[i])) * x.row(i);
  }
  hessian.selfadjointView<Eigen::Lower>().rankUpdate(sampled.transpose());
}

void NewtonAccumulator::AddEvaluation(bool label, double logit) {
  evaluation_rows += 1;
  evaluation_loss += Softplus(logit) - (label ? logit : 0.0);
  if (scores) evaluation.Add(logit, label);
}

void NewtonAccumulator::Flush() {
  if (!with_hessian || buffered_ == 0) return;
  hessian.selfadjointView<Eigen::Lower>().rankUpdate(block_.topRows(buffered_).transpose());
  buffered_ = 0;
}

void NewtonAccumulator::Merge(NewtonAccumulator& o) {
  Flush();
  o.Flush();
  if (dim == 0) {
    *this = o;
    return;
  }
  if (o.dim == 0) return;
  if (o.dim != dim) throw Error(ErrorCode::kInternal, "training states of different dimensions");
  training_rows += o.training_rows;
  loss += o.loss;
  gradient += o.gradient;
  if (with_hessian) hessian += o.hessian;
  evaluation_rows += o.evaluation_rows;
  evaluation_loss += o.evaluation_loss;
  evaluation.Merge(o.evaluation);
  training_scores.Merge(o.training_scores);
}

std::vector<uint8_t> NewtonAccumulator::Serialize() {
  Flush();
  std::vector<double> g(gradient.data(), gradient.data() + gradient.size());
  std::vector<double> h;
  if (with_hessian) {
    for (long c = 0; c < static_cast<long>(dim); ++c) {
      for (long r = c; r < static_cast<long>(dim); ++r) h.push_back(hessian(r, c));
    }
  }
  nlohmann::json j = {{"dim", dim},
                      {"with_hessian", with_hessian},
                      {"training_rows", training_rows},
                      {"loss", loss},
                      {"gradient", g},
                      {"hessian", h},
                      {"evaluation_rows", evaluation_rows},
                      {"evaluation_loss", evaluation_loss},
                      {"evaluation", evaluation.ToJson()},
                      {"training_scores", training_scores.ToJson()}};
  return nlohmann::json::to_cbor(j);
}

NewtonAccumulator NewtonAccumulator::Deserialize(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::from_cbor(data, data + size);
  NewtonAccumulator a(j.at("dim").get<size_t>(), j.at("with_hessian").get<bool>());
  a.training_rows = j.at("training_rows");
  a.loss = j.at("loss");
  std::vector<double> g = j.at("gradient").get<std::vector<double>>();
  for (size_t i = 0; i < g.size() && i < a.dim; ++i) a.gradient[static_cast<long>(i)] = g[i];
  if (a.with_hessian) {
    std::vector<double> h = j.at("hessian").get<std::vector<double>>();
    size_t k = 0;
    for (long c = 0; c < static_cast<long>(a.dim); ++c) {
      for (long r = c; r < static_cast<long>(a.dim) && k < h.size(); ++r) a.hessian(r, c) = h[k++];
    }
  }
  a.evaluation_rows = j.at("evaluation_rows");
  a.evaluation_loss = j.at("evaluation_loss");
  a.evaluation = ScoreHistogram::FromJson(j.at("evaluation"));
  a.training_scores = ScoreHistogram::FromJson(j.at("training_scores"));
  return a;
}

double Objective(double loss, const Eigen::VectorXd& beta, double l2) {
  return loss + 0.5 * l2 * beta.tail(beta.size() - 1).squaredNorm();
}

NewtonStep ComputeNewtonStep(const NewtonAccumulator& pass, const Eigen::VectorXd& beta, double l2) {
  const long d = static_cast<long>(pass.dim);
  Eigen::VectorXd g = pass.gradient;
  Eigen::MatrixXd h = pass.hessian.selfadjointView<Eigen::Lower>();
  g.tail(d - 1) += l2 * beta.tail(d - 1);
  h.diagonal().tail(d - 1).array() += l2;
  // A tiny ridge keeps the system solvable when l2 = 0 and columns are collinear or constant.
  h.diagonal().array() += 1e-10 * (1.0 + h.diagonal().cwiseAbs().maxCoeff());
  Eigen::LDLT<Eigen::MatrixXd> ldlt(h);
  NewtonStep step;
  step.delta = -ldlt.solve(g);
  if (ldlt.info() != Eigen::Success || !step.delta.allFinite()) {
    throw Error(ErrorCode::kDataException, "training did not converge: the Newton system is singular",
                "Increase the \"l2\" option.");
  }
  step.decrement = -g.dot(step.delta);
  return step;
}

NewtonRun Minimise(Eigen::VectorXd beta, double l2, double tol, int max_iter, const PassAt& pass,
                   const IterationReport& report) {
  constexpr int kMaxHalvings = 30;  // per iteration: a step of 2^-30 of Newton's is no step
  NewtonRun run;
  Eigen::VectorXd previous_beta, previous_delta;
  double previous_objective = std::numeric_limits<double>::infinity(), step_length = 1.0;
  int halvings_here = 0;
  while (run.iterations < max_iter) {
    NewtonAccumulator sums = pass(beta, run.exact);
    ++run.passes;
    run.objective = Objective(sums.loss, beta, l2);
    if (!std::isfinite(run.objective) && previous_beta.size() != beta.size()) {
      run.finite = false;
      break;
    }
    if (!(run.objective <= previous_objective * (1 + 1e-12)) && previous_beta.size() == beta.size()) {
      // The step went uphill (or overflowed): the Hessian of a subsampled pass misled it, or
      // the quadratic model does not hold that far. Retry from the previous point with half
      // the step and, from now on, the exact Hessian. Never accept an uphill step: when no
      // fraction of the step helps, stop at the previous point, the best one seen.
      run.exact = true;
      if (halvings_here == kMaxHalvings) {
        beta = previous_beta;
        run.objective = previous_objective;
        run.stalled = true;
        break;
      }
      step_length /= 2;
      ++halvings_here;
      ++run.halvings;
      beta = previous_beta + step_length * previous_delta;
      continue;
    }
    ++run.iterations;
    const NewtonStep step = ComputeNewtonStep(sums, beta, l2);
    report(run.passes, run.iterations, run.objective, step.decrement);
    if (step.decrement / 2 <= tol * std::max(1.0, std::fabs(run.objective))) {
      run.converged = true;
      run.last = std::move(sums);  // beta stays where this pass was run
      break;
    }
    previous_beta = beta;
    previous_delta = step.delta;
    previous_objective = run.objective;
    step_length = 1.0;
    halvings_here = 0;
    beta += step.delta;
  }
  run.beta = std::move(beta);
  return run;
}

}  // namespace pgfraud
