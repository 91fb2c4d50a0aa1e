// Unit tests of damped Newton (Minimise) on objectives whose Hessian misleads the step, as a
// subsampled Hessian does on nearly separable rows: an uphill step is never taken.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "linear/newton.hpp"

namespace pgfraud {
namespace {

// The sums of f(b) = (b - 3)^2 at b, with the Hessian f'' divided by `shrink` unless `exact`
// is honoured and asked for: a step of Newton's on them is `shrink` times too long.
NewtonAccumulator Quadratic(const Eigen::VectorXd& b, double shrink, bool exact) {
  NewtonAccumulator sums(1, true);
  sums.loss = (b[0] - 3) * (b[0] - 3);
  sums.gradient[0] = 2 * (b[0] - 3);
  sums.hessian(0, 0) = exact ? 2.0 : 2.0 / shrink;
  return sums;
}

TEST(Minimise, NeverTakesAnUphillStepHoweverManyHalvingsTheRunNeeds) {
  // Each iteration needs 3 halvings (a step 10x too long); over 50 iterations far more than
  // 30 in all. (The pass ignores `exact`, as the passes over a table do.)
  std::vector<double> accepted;
  const NewtonRun run = Minimise(
      Eigen::VectorXd::Constant(1, 0.0), 0.0, 1e-14, 50,
      [](const Eigen::VectorXd& b, auto&&...) { return Quadratic(b, 10.0, false); },
      [&](int, int, double objective, double) { accepted.push_back(objective); });
  for (size_t i = 1; i < accepted.size(); ++i) EXPECT_LE(accepted[i], accepted[i - 1]) << "iteration " << i + 1;
  EXPECT_TRUE(run.converged);
  EXPECT_GT(run.halvings, 30);
  EXPECT_NEAR(run.beta[0], 3.0, 1e-6);
}

TEST(Minimise, AsksForTheExactHessianOnceAStepWentUphill) {
  std::vector<bool> asked;
  const NewtonRun run = Minimise(
      Eigen::VectorXd::Constant(1, 0.0), 0.0, 1e-14, 50,
      [&](const Eigen::VectorXd& b, bool exact) {
        asked.push_back(exact);
        return Quadratic(b, 10.0, exact);
      },
      [](int, int, double, double) {});
  EXPECT_TRUE(run.converged);
  EXPECT_TRUE(run.exact);
  EXPECT_EQ(run.halvings, 3);  // the first step: 10x, 5x, 2.5x too long, then 1.25x (downhill)
  ASSERT_GE(asked.size(), 3u);
  EXPECT_FALSE(asked[0]);  // the start
  EXPECT_FALSE(asked[1]);  // the full step, found uphill
  EXPECT_TRUE(asked[2]);   // the half step and every pass after it
  EXPECT_NEAR(run.beta[0], 3.0, 1e-9);
}

TEST(Minimise, StopsAtTheBestPointWhenNoStepHelps) {
  // The gradient points the wrong way: every step goes uphill.
  const NewtonRun run = Minimise(
      Eigen::VectorXd::Constant(1, 1.0), 0.0, 1e-14, 50,
      [](const Eigen::VectorXd& b, auto&&...) {
        NewtonAccumulator sums = Quadratic(b, 1.0, true);
        sums.gradient[0] = -sums.gradient[0];
        return sums;
      },
      [](int, int, double, double) {});
  EXPECT_FALSE(run.converged);
  EXPECT_TRUE(run.stalled);
  EXPECT_EQ(run.iterations, 1);
  EXPECT_DOUBLE_EQ(run.beta[0], 1.0);
  EXPECT_DOUBLE_EQ(run.objective, 4.0);
}

}  // namespace
}  // namespace pgfraud
