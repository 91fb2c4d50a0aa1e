// Unit tests of training: optimality checked by perturbing the model it returns, merges,
// degenerate data, and metrics against hand counts.
#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "linear/trainer.hpp"
#include "training/training_data.hpp"

namespace pgfraud {
namespace {

// Rows kept in memory as strings/numbers, run through the same PassContext as the glue.
struct Row {
  double amount;
  std::string country;
  bool online;
  bool fraud;
};

class MemoryRunner : public PassRunner {
 public:
  explicit MemoryRunner(std::vector<Row> rows, int workers = 1) : rows_(std::move(rows)), workers_(workers) {}

  std::vector<FeatureValue> Values(const Row& r) const {
    return {FeatureValue::Number(r.amount), FeatureValue::Text(r.country), FeatureValue::Bool(r.online),
            FeatureValue::Bool(r.fraud)};
  }
  TrainingStats Statistics(const PassSpec& spec) override {
    PassContext ctx(spec);
    std::vector<TrainingStats> parts(workers_, ctx.NewStatistics());
    for (size_t i = 0; i < rows_.size(); ++i) ctx.AddToStatistics(parts[i % workers_], Values(rows_[i]).data());
    TrainingStats total = TrainingStats::Deserialize(parts[0].Serialize().data(), parts[0].Serialize().size());
    for (int w = 1; w < workers_; ++w) total.Merge(parts[w]);
    return total;
  }
  NewtonAccumulator Newton(const PassSpec& spec) override {
    PassContext ctx(spec);
    std::vector<NewtonAccumulator> parts;
    for (int w = 0; w < workers_; ++w) parts.emplace_back(spec.encoding.dim, spec.with_hessian);
    for (size_t i = 0; i < rows_.size(); ++i) ctx.AddToNewton(parts[i % workers_], Values(rows_[i]).data());
    std::vector<uint8_t> bytes = parts[0].Serialize();
    NewtonAccumulator total = NewtonAccumulator::Deserialize(bytes.data(), bytes.size());
    for (int w = 1; w < workers_; ++w) total.Merge(parts[w]);
    return total;
  }
  void Progress(const std::string&) override { ++progress_lines; }
  double EstimatedRows() override { return estimate >= 0 ? estimate : static_cast<double>(rows_.size()); }
  size_t MemoryBudget() override { return budget; }
  int Threads() override { return threads; }

  int progress_lines = 0;
  int threads = 1;       // for the iterations over rows in memory
  size_t budget = 0;     // bytes for rows in memory (0: passes only)
  double estimate = -1;  // the planner's estimate to report; -1: the true count

 private:
  std::vector<Row> rows_;
  int workers_;
};

const std::vector<TrainingColumn> kColumns = {
    {"amount", ColumnKind::kNumeric}, {"country", ColumnKind::kCategorical}, {"online", ColumnKind::kBoolean}};

std::vector<Row> Synthetic(int n, unsigned seed, double signal = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> amount(100.0, 40.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const char* countries[] = {"US", "GB", "NG", "FR"};
  std::vector<Row> rows;
  for (int i = 0; i < n; ++i) {
    Row r{amount(rng), countries[rng() % 4], u(rng) < 0.3, false};
    double z = -2.0 + signal * (0.02 * (r.amount - 100) + (r.country == "NG" ? 1.5 : 0.0) + (r.online ? 0.7 : 0.0));
    r.fraud = u(rng) < 1.0 / (1.0 + std::exp(-z));
    rows.push_back(r);
  }
  return rows;
}

// The regularised objective of a model on training rows, computed from the model document's
// scoring, independently of the encoder and the Newton code.
double ObjectiveOf(const Model& m, const std::vector<Row>& rows, double l2, const MemoryRunner& runner) {
  double loss = 0, penalty = 0;
  for (const Row& r : rows) {
    std::vector<FeatureValue> v = runner.Values(r);
    double z = m.Logit(v.data());
    loss += std::log1p(std::exp(-std::fabs(z))) + std::max(z, 0.0) - (r.fraud ? z : 0.0);
  }
  for (const Feature& f : m.features) {
    if (f.kind == FeatureKind::kCategorical) {
      for (const auto& w : f.weights) penalty += w.second * w.second;
      penalty += f.default_weight * f.default_weight;
    } else {
      penalty += f.weight * f.weight;
    }
  }
  return loss + 0.5 * l2 * penalty;
}

TEST(Trainer, ReachesTheOptimumOfTheRegularisedObjective) {
  std::vector<Row> rows = Synthetic(3000, 1);
  MemoryRunner runner(rows);
  TrainingOptions options;
  options.holdout = 0.0;
  options.l2 = 2.0;
  TrainingResult r = Train(kColumns, "fraud", options, runner);
  EXPECT_TRUE(r.training["converged"].get<bool>());
  EXPECT_GT(runner.progress_lines, 3);
  const double best = ObjectiveOf(r.model, rows, 2.0, runner);
  // Nudging any coefficient either way does not lower the objective.
  for (size_t i = 0; i < r.model.features.size(); ++i) {
    for (double eps : {-1e-3, 1e-3}) {
      Model m = r.model;
      Feature& f = m.features[i];
      if (f.kind == FeatureKind::kCategorical) {
        f.weights[0].second += eps;
      } else {
        f.weight += eps;
      }
      f.Prepare();
      EXPECT_GE(ObjectiveOf(m, rows, 2.0, runner), best - 1e-9) << f.name << " " << eps;
    }
    Model m = r.model;
    m.intercept += 1e-3;
    EXPECT_GE(ObjectiveOf(m, rows, 2.0, runner), best - 1e-9);
  }
  // The signal is recovered: NG and online push towards fraud.
  EXPECT_GT(r.model.features[1].CategoryWeight("NG"), r.model.features[1].CategoryWeight("US"));
  EXPECT_GT(r.model.features[2].weight, 0.0);
  EXPECT_GT(*r.metrics.roc_auc, 0.7);
}

TEST(Trainer, ParallelMergesGiveTheSameModel) {
  std::vector<Row> rows = Synthetic(2000, 2);
  MemoryRunner one(rows, 1), three(rows, 3);
  TrainingOptions options;
  TrainingResult a = Train(kColumns, "fraud", options, one);
  TrainingResult b = Train(kColumns, "fraud", options, three);
  EXPECT_NEAR(a.model.intercept, b.model.intercept, 1e-9);
  EXPECT_NEAR(a.model.features[0].weight, b.model.features[0].weight, 1e-9);
  EXPECT_EQ(a.metrics.rows, b.metrics.rows);
  EXPECT_NEAR(*a.metrics.roc_auc, *b.metrics.roc_auc, 1e-12);
}

TEST(Trainer, WarmStartReachesTheSameOptimumInFewerPasses) {
  std::vector<Row> rows = Synthetic(60000, 5);
  MemoryRunner runner(rows, 2);
  TrainingOptions options;
  options.tol = 1e-13;  // both runs converge far below the differences checked
  options.warm_start_rows = 0;
  TrainingResult cold = Train(kColumns, "fraud", options, runner);
  options.warm_start_rows = 3000;
  TrainingResult warm = Train(kColumns, "fraud", options, runner);
  EXPECT_TRUE(cold.training["warm_start_rows"].is_null());
  // 1500 fraudulent rows and up to 1500 legitimate ones (those under the planner-estimate cut).
  EXPECT_GT(warm.training["warm_start_rows"].get<int>(), 2500);
  EXPECT_LE(warm.training["warm_start_rows"].get<int>(), 3000);
  EXPECT_LT(warm.training["passes"].get<int>(), cold.training["passes"].get<int>());
  EXPECT_NEAR(warm.model.intercept, cold.model.intercept, 1e-5);
  EXPECT_NEAR(warm.model.features[0].weight, cold.model.features[0].weight, 1e-5);
  EXPECT_NEAR(warm.model.features[1].CategoryWeight("NG"), cold.model.features[1].CategoryWeight("NG"), 1e-5);
  EXPECT_NEAR(warm.model.features[2].weight, cold.model.features[2].weight, 1e-5);
  EXPECT_NEAR(*warm.metrics.roc_auc, *cold.metrics.roc_auc, 1e-6);  // binned: a bin may move
  std::printf("passes: cold %d, warm %d\n", cold.training["passes"].get<int>(), warm.training["passes"].get<int>());
}

// Rows in memory (merged from workers, categories numbered in each worker's order) and
// passes over the rows give the same model; a store over its budget falls back to passes.
TEST(Trainer, InMemoryReachesTheSameModelAsPasses) {
  const std::vector<Row> rows = Synthetic(6000, 21);
  TrainingOptions options;
  options.tol = 1e-12;
  for (double holdout : {0.2, 0.0}) {
    options.holdout = holdout;
    MemoryRunner passes(rows, 3), memory(rows, 3), unknown(rows, 3), threaded(rows, 3);
    memory.budget = threaded.budget = size_t{64} << 20;
    threaded.threads = 3;    // 6,000 rows: three ranges of whole 512-row blocks
    unknown.budget = 20000;  // about 1,000 rows: the store overflows and is dropped
    unknown.estimate = 0;    // never analysed: the store is tried
    const TrainingResult a = Train(kColumns, "fraud", options, passes);
    const TrainingResult b = Train(kColumns, "fraud", options, memory);
    const TrainingResult c = Train(kColumns, "fraud", options, unknown);
    const TrainingResult d = Train(kColumns, "fraud", options, threaded);
    EXPECT_TRUE(d.training["in_memory"].get<bool>());
    EXPECT_FALSE(a.training["in_memory"].get<bool>());
    EXPECT_TRUE(b.training["in_memory"].get<bool>());
    EXPECT_FALSE(c.training["in_memory"].get<bool>());
    EXPECT_EQ(b.training["passes"], 1);
    EXPECT_GE(a.training["passes"].get<int>(), 2);
    for (const TrainingResult* other : {&b, &c, &d}) {
      EXPECT_NEAR(a.model.intercept, other->model.intercept, 1e-7);
      ASSERT_EQ(a.model.features.size(), other->model.features.size());
      for (size_t i = 0; i < a.model.features.size(); ++i) {
        EXPECT_NEAR(a.model.features[i].weight, other->model.features[i].weight, 1e-7);
        ASSERT_EQ(a.model.features[i].weights.size(), other->model.features[i].weights.size());
        for (size_t k = 0; k < a.model.features[i].weights.size(); ++k) {
          EXPECT_EQ(a.model.features[i].weights[k].first, other->model.features[i].weights[k].first);
          EXPECT_NEAR(a.model.features[i].weights[k].second, other->model.features[i].weights[k].second, 1e-7);
        }
      }
      EXPECT_NEAR(*a.metrics.roc_auc, *other->metrics.roc_auc, 1e-9);
      EXPECT_EQ(a.metrics.rows, other->metrics.rows);
    }
  }
}

// The vectorised block sums equal the row-by-row sums; a strided Hessian estimates the full one.
TEST(NewtonAccumulator, BlockSumsEqualRowSums) {
  std::mt19937 rng(5);
  std::normal_distribution<double> n01;
  const long rows = 2000, dim = 6;
  NewtonAccumulator::Block x(rows, dim);
  Eigen::ArrayXd y(rows), w(rows), z(rows);
  NewtonAccumulator by_row(dim, true);
  for (long r = 0; r < rows; ++r) {
    for (long c = 0; c < dim; ++c) x(r, c) = c == 0 ? 1.0 : n01(rng);
    y[r] = n01(rng) > 0.5 ? 1.0 : 0.0;
    w[r] = r % 7 == 0 ? 0.0 : 1.5;  // weight 0: a holdout row
    z[r] = 3 * n01(rng);
    if (w[r] > 0) by_row.AddTraining(x.row(r).data(), y[r] > 0, w[r], z[r]);
  }
  by_row.Flush();
  NewtonAccumulator block(dim, true), strided(dim, true);
  block.AddTrainingBlock(x, y, w, z, by_row.training_rows);
  strided.AddTrainingBlock(x, y, w, z, by_row.training_rows, 4);
  EXPECT_EQ(block.training_rows, by_row.training_rows);
  EXPECT_NEAR(block.loss, by_row.loss, 1e-9 * by_row.loss);
  EXPECT_LT((block.gradient - by_row.gradient).norm(), 1e-9 * by_row.gradient.norm());
  EXPECT_LT((block.hessian - by_row.hessian).norm(), 1e-9 * by_row.hessian.norm());
  EXPECT_LT((strided.gradient - by_row.gradient).norm(), 1e-9 * by_row.gradient.norm());
  const double relative = (strided.hessian - by_row.hessian).norm() / by_row.hessian.norm();
  EXPECT_GT(relative, 0.0);   // a different, sampled matrix
  EXPECT_LT(relative, 0.15);  // of about the same size and shape
}

TEST(RowStore, MergesRenumberCategoriesAndSurviveSerialisation) {
  const Model reading = ReadingModel(kColumns, "fraud");
  RowStore first(reading, 1 << 20), second(reading, 1 << 20);
  const auto add = [&](RowStore& s, double amount, const char* country, bool holdout) {
    const FeatureValue v[] = {FeatureValue::Number(amount), FeatureValue::Text(country), FeatureValue::Missing(),
                              FeatureValue::Bool(true)};
    s.Add(reading, v, amount > 1, holdout);
  };
  add(first, 1, "US", false);
  add(first, 2, "NG", true);
  add(second, 3, "NG", false);  // "NG" is 0 here, 1 in `first`
  add(second, 4, "FR", false);
  std::vector<uint8_t> bytes;
  second.Serialize(bytes);
  Unpacker in(bytes.data(), bytes.size());
  first.Merge(RowStore::Deserialize(in));
  EXPECT_TRUE(in.Done());
  ASSERT_TRUE(first.Complete());
  ASSERT_EQ(first.Rows(), 4u);
  const char* countries[] = {"US", "NG", "NG", "FR"};
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(first.Row(r)[0], static_cast<double>(r + 1));
    EXPECT_EQ(first.Dictionary(1)[static_cast<size_t>(first.Row(r)[1])], countries[r]);
    EXPECT_TRUE(std::isnan(first.Row(r)[2]));  // a missing boolean
    EXPECT_EQ(first.Labels()[r], r > 0 ? 1 : 0);
    EXPECT_EQ(first.Holdout()[r], r == 1 ? 1 : 0);
  }
  // A truncated buffer is refused, not read past its end.
  bytes.resize(bytes.size() - 3);
  Unpacker truncated(bytes.data(), bytes.size());
  EXPECT_THROW(RowStore::Deserialize(truncated), std::runtime_error);
  // Past the budget the rows are dropped, and a merge with an overflowed store overflows.
  RowStore tiny(reading, 40);
  add(tiny, 1, "US", false);
  add(tiny, 2, "US", false);
  EXPECT_TRUE(tiny.Overflowed());
  EXPECT_EQ(tiny.Rows(), 0u);
  first.Merge(std::move(tiny));
  EXPECT_FALSE(first.Complete());
}

TEST(TrainingStats, WholeRowsSurviveSerialisationAndMerge) {
  const Model reading = ReadingModel(kColumns, "fraud");
  std::vector<Row> rows = Synthetic(2000, 6);
  TrainingStats a(reading, 1000, 100), b(reading, 1000, 100), all(reading, 1000, 100);
  MemoryRunner runner(rows);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<FeatureValue> v = runner.Values(rows[i]);
    (i % 2 ? a : b).Add(reading, v.data(), 42, 0.2);
    all.Add(reading, v.data(), 42, 0.2);
  }
  std::vector<uint8_t> bytes = a.Serialize();
  TrainingStats merged = TrainingStats::Deserialize(bytes.data(), bytes.size());
  merged.Merge(b);
  all.TrimWhole();
  std::vector<FeatureValue> x, y;
  for (int positive : {0, 1}) {
    // 50 per class: the class-balanced bottom-k of the whole stream, however it was split.
    ASSERT_EQ(merged.whole[positive].size(), 50u);
    ASSERT_EQ(all.whole[positive].size(), 50u);
    std::sort(merged.whole[positive].begin(), merged.whole[positive].end());
    std::sort(all.whole[positive].begin(), all.whole[positive].end());
    for (size_t r = 0; r < 50; ++r) {
      ASSERT_EQ(merged.whole[positive][r].priority, all.whole[positive][r].priority);
      merged.whole[positive][r].Restore(x);
      all.whole[positive][r].Restore(y);
      ASSERT_EQ(x.size(), 4u);
      EXPECT_EQ(x[0].number, y[0].number);
      EXPECT_EQ(x[1].text, y[1].text);
      EXPECT_FALSE(x[1].text.empty());
      EXPECT_EQ(x[2].flag, y[2].flag);
      EXPECT_EQ(x[3].flag, positive == 1);
    }
  }
}

// The fraudulent share from the label's most common values, or 0 when they cannot tell.
TEST(PositiveFraction, ReadsTheLabelsMostCommonValues) {
  const Feature label = ReadingModel(kColumns, "fraud").features.back();
  EXPECT_DOUBLE_EQ(PositiveFraction(label, ValueFrequencies{{{"f", 0.87}, {"t", 0.13}}, 0.0}), 0.13);
  EXPECT_DOUBLE_EQ(PositiveFraction(label, ValueFrequencies{{{"0", 0.4}, {"1", 0.1}}, 0.5}), 0.2);  // of labelled rows
  EXPECT_DOUBLE_EQ(PositiveFraction(label, ValueFrequencies{{{"N", 0.9}, {"Y", 0.1}}, 0.0}), 0.1);
  EXPECT_EQ(PositiveFraction(label, ValueFrequencies{{{"f", 0.5}, {"t", 0.1}}, 0.0}), 0.0);      // values left out
  EXPECT_EQ(PositiveFraction(label, ValueFrequencies{{{"f", 0.9}, {"maybe", 0.1}}, 0.0}), 0.0);  // not a label
  EXPECT_EQ(PositiveFraction(label, ValueFrequencies{{{"f", 1.0}}, 0.0}), 0.0);  // none fraudulent in the sample
  EXPECT_EQ(PositiveFraction(label, ValueFrequencies{{}, 1.0}), 0.0);            // every label NULL
  EXPECT_EQ(PositiveFraction(label, std::nullopt), 0.0);
}

// A cut-off per class: whole rows of either class are kept only below their class's cut-off.
TEST(TrainingStats, WholeRowsOfEachClassStayBelowTheirCutoff) {
  const Model reading = ReadingModel(kColumns, "fraud");
  const std::vector<Row> rows = Synthetic(20000, 8);
  const uint64_t legitimate = UINT64_MAX / 4, fraudulent = UINT64_MAX / 8;
  TrainingStats stats(reading, 1000, 100000, legitimate, 0, 0, fraudulent);  // room for every row below them
  MemoryRunner runner(rows);
  double positives = 0;
  for (const Row& r : rows) {
    std::vector<FeatureValue> v = runner.Values(r);
    stats.Add(reading, v.data(), 42, 0.0);
    positives += r.fraud ? 1 : 0;
  }
  for (const StoredRow& row : stats.whole[0]) EXPECT_LT(row.priority, legitimate);
  for (const StoredRow& row : stats.whole[1]) EXPECT_LT(row.priority, fraudulent);
  // Uniform priorities: about a quarter of the legitimate and an eighth of the fraudulent rows.
  EXPECT_NEAR(static_cast<double>(stats.whole[0].size()), (rows.size() - positives) / 4,
              0.1 * (rows.size() - positives) / 4);
  EXPECT_NEAR(static_cast<double>(stats.whole[1].size()), positives / 8, 0.2 * positives / 8);
}

TEST(Trainer, HoldoutIsDeterministicAndNearTheFraction) {
  std::vector<Row> rows = Synthetic(5000, 3);
  MemoryRunner runner(rows);
  TrainingOptions options;
  options.holdout = 0.25;
  TrainingResult a = Train(kColumns, "fraud", options, runner);
  TrainingResult b = Train(kColumns, "fraud", options, runner);
  EXPECT_EQ(a.training["holdout_rows"], b.training["holdout_rows"]);
  double held = a.training["holdout_rows"].get<double>();
  EXPECT_NEAR(held / 5000.0, 0.25, 0.03);
  EXPECT_EQ(a.metrics.rows, held);
  options.seed = 7;
  TrainingResult c = Train(kColumns, "fraud", options, runner);
  EXPECT_NE(c.training["holdout_rows"], a.training["holdout_rows"]);
}

TEST(Trainer, SeparableDataConvergesWithFiniteWeights) {
  std::vector<Row> rows;
  for (int i = 0; i < 400; ++i) rows.push_back({static_cast<double>(i), i % 2 ? "US" : "GB", false, i >= 200});
  MemoryRunner runner(rows);
  TrainingOptions options;
  options.holdout = 0.0;
  TrainingResult r = Train(kColumns, "fraud", options, runner);
  EXPECT_TRUE(r.training["converged"].get<bool>());
  EXPECT_TRUE(std::isfinite(r.model.features[0].weight));
  EXPECT_GT(r.model.features[0].weight, 1.0);
  EXPECT_DOUBLE_EQ(*r.metrics.roc_auc, 1.0);
}

TEST(Trainer, DegenerateDataIsAnError) {
  std::vector<Row> one_class = Synthetic(100, 4);
  for (Row& r : one_class) r.fraud = false;
  MemoryRunner a(one_class);
  TrainingOptions options;
  try {
    Train(kColumns, "fraud", options, a);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kDataException);
  }
  MemoryRunner empty({});
  EXPECT_THROW(Train(kColumns, "fraud", options, empty), Error);
}

TEST(Trainer, BalancedWeightsRaiseTheIntercept) {
  std::vector<Row> rows = Synthetic(3000, 5);
  MemoryRunner runner(rows);
  TrainingOptions plain, balanced;
  balanced.balanced = true;
  EXPECT_GT(Train(kColumns, "fraud", balanced, runner).model.intercept,
            Train(kColumns, "fraud", plain, runner).model.intercept);
}

TEST(Metrics, HandCountedAucAndConfusion) {
  ScoreHistogram h;
  // Positives at logits 2, 1; negatives at 1.5, -1, -2: 5 of 6 pairs ordered -> AUC 5/6.
  h.Add(2.0, true);
  h.Add(1.0, true);
  h.Add(1.5, false);
  h.Add(-1.0, false);
  h.Add(-2.0, false);
  Metrics m = Evaluate(h, 0.0, ThresholdChoice::AtProbability(0.5));
  EXPECT_NEAR(*m.roc_auc, 4.0 / 6.0 + 1.0 / 6.0, 1e-12);
  // Average precision: ranks 1 (P=1), 3 (P=2/3) -> (1 + 2/3) / 2.
  EXPECT_NEAR(*m.pr_auc, (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.tn, 2);
  EXPECT_EQ(m.fn, 0);
  ThresholdStrategy rate{ThresholdStrategy::Kind::kAlertRate, 0.2};
  Metrics top = Evaluate(h, 0.0, ChooseThreshold(h, rate));  // the histogram's cut
  EXPECT_EQ(top.tp + top.fp, 1);
  ThresholdStrategy recall{ThresholdStrategy::Kind::kRecall, 1.0};
  Metrics all = Evaluate(h, 0.0, ChooseThreshold(h, recall));
  EXPECT_EQ(all.tp, 2);
  EXPECT_EQ(all.fp, 1);
}

// An alert budget is a share of all rows: unlabelled rows count, and with no label at all the
// budget still picks the top rows.
TEST(Metrics, AlertRateCountsUnlabelledRows) {
  ScoreHistogram h;
  h.Add(3.0, true);  // one labelled row at logit 3; 9 unlabelled rows below it, 10 above it
  std::vector<double> unlabelled(ScoreHistogram::kBins, 0.0);
  for (int i = 0; i < 9; ++i) unlabelled[ScoreHistogram::Bin(-5.0 + i * 0.5)] += 1;
  for (int i = 0; i < 10; ++i) unlabelled[ScoreHistogram::Bin(5.0 + i * 0.5)] += 1;
  // The rows a probability threshold flags (logit >= its logit), given the labelled row or not.
  auto flagged_at = [&](const ThresholdChoice& threshold, bool with_labelled) {
    const double cut = threshold.logit;
    int n = with_labelled && 3.0 >= cut ? 1 : 0;
    for (int b = 0; b < ScoreHistogram::kBins; ++b) {
      if (ScoreHistogram::LowerEdge(b) >= cut - 1e-9) n += static_cast<int>(unlabelled[b]);
    }
    return n;
  };
  ThresholdStrategy quarter{ThresholdStrategy::Kind::kAlertRate, 0.25};
  EXPECT_EQ(flagged_at(ChooseThreshold(h, quarter, unlabelled), true), 5);  // 25% of 20 rows
  ThresholdStrategy most{ThresholdStrategy::Kind::kAlertRate, 0.55};
  EXPECT_EQ(flagged_at(ChooseThreshold(h, most, unlabelled), true), 11);  // the 10 above and the labelled one
  ScoreHistogram none;                                                    // no labelled row at all: 19 rows
  ThresholdStrategy tenth{ThresholdStrategy::Kind::kAlertRate, 0.11};
  EXPECT_EQ(flagged_at(ChooseThreshold(none, tenth, unlabelled), false), 2);  // floor(0.11 * 19)
  // Without the unlabelled rows, a budget over the one labelled row alerts nothing.
  EXPECT_EQ(ChooseThreshold(h, quarter).probability, 1.0);
  EXPECT_EQ(ChooseThreshold(h, quarter).logit, INFINITY);
}

// Scores far out in the tails (probabilities that round to 1) still rank apart: by logit in
// the histogram's tail bins, and exactly for an alert budget.
TEST(Metrics, TailsRankByLogit) {
  // The bins are ordered and contiguous: every lower edge below the next, each logit in its bin.
  for (int b = 1; b + 1 < ScoreHistogram::kBins; ++b) {
    ASSERT_LT(ScoreHistogram::LowerEdge(b), ScoreHistogram::LowerEdge(b + 1)) << b;
  }
  for (double z :
       {-5000.0, -300.0, -40.0, -20.0001, -20.0, -19.99, 0.0, 19.999, 20.0, 20.003, 37.0, 80.0, 700.0, 9000.0}) {
    const int b = ScoreHistogram::Bin(z);
    EXPECT_LE(ScoreHistogram::LowerEdge(b), z) << z;
    if (b + 1 < ScoreHistogram::kBins) EXPECT_GT(ScoreHistogram::LowerEdge(b + 1), z) << z;
  }
  EXPECT_LT(ScoreHistogram::Bin(40.0), ScoreHistogram::Bin(41.0));  // both score 1.0 as doubles
  EXPECT_GT(ScoreHistogram::Bin(-40.0), ScoreHistogram::Bin(-41.0));
  // Positives above every negative, all of them beyond logit 40: AUC 1, not a tie.
  ScoreHistogram h;
  for (int i = 0; i < 10; ++i) h.Add(60.0 + i, true);
  for (int i = 0; i < 10; ++i) h.Add(41.0 + i, false);
  EXPECT_DOUBLE_EQ(*Evaluate(h, 0.0, ThresholdChoice::AtProbability(0.5)).roc_auc, 1.0);
  // f1 on these rows cuts between the classes, at a logit whose probability is 1.0.
  const ThresholdChoice f1 = ChooseThreshold(h, ThresholdStrategy{ThresholdStrategy::Kind::kF1, 0});
  EXPECT_GT(f1.logit, 50.0);
  EXPECT_LE(f1.logit, 60.0);
  EXPECT_EQ(f1.probability, 1.0);
  const Metrics at = Evaluate(h, 0.0, f1);
  EXPECT_EQ(at.tp, 10);
  EXPECT_EQ(at.fp, 0);
}

// An alert budget on exact logits flags the budgeted share whatever the score range, and
// never splits tied rows.
TEST(Metrics, AlertRateOnExactLogits) {
  std::mt19937 rng(11);
  for (double scale : {1e-6, 1.0, 1000.0}) {
    std::vector<double> logits;
    std::normal_distribution<double> z(30.0 * (scale > 1 ? 1 : 0), scale);
    for (int i = 0; i < 5000; ++i) logits.push_back(z(rng));
    const ThresholdChoice c = AlertRateLogit(logits, 0.01);
    int flagged = 0;
    for (double l : logits) flagged += l >= c.logit ? 1 : 0;
    EXPECT_EQ(flagged, 50) << scale;
  }
  // Ties at the cut: 3 rows at 5 and 1 above; a budget of 2 flags the one above only.
  const ThresholdChoice tie = AlertRateLogit({9.0, 5.0, 5.0, 5.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0}, 0.2);
  EXPECT_GT(tie.logit, 5.0);
  EXPECT_LE(tie.logit, 9.0);
  EXPECT_EQ(AlertRateLogit({1.0, 2.0}, 0.1).logit, INFINITY);       // a budget under one row: none
  EXPECT_EQ(AlertRateLogit({5.0, 5.0, 5.0}, 0.5).logit, INFINITY);  // all tied: none within the budget
}

// Batched sums around a shift agree with a two-pass computation, even far from zero and
// across batches and merges.
TEST(RunningMoments, MatchesTwoPassMeanAndSpread) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.5);
  std::vector<double> xs;
  for (int i = 0; i < 10000; ++i) xs.push_back(1e9 + 3 * std::sin(i) + noise(rng));
  RunningMoments all, first, second;
  for (size_t i = 0; i < xs.size(); ++i) {
    all.Add(xs[i]);
    (i < 6000 ? first : second).Add(xs[i]);
  }
  all.Settle();
  first.Settle();
  second.Settle();
  first.Merge(second);
  double mean = 0, m2 = 0;
  for (double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  for (double x : xs) m2 += (x - mean) * (x - mean);
  for (const RunningMoments* m : {&all, &first}) {
    EXPECT_EQ(m->count, 10000.0);
    EXPECT_NEAR(m->mean, mean, 1e-6);
    EXPECT_NEAR(m->m2 / m2, 1.0, 1e-9);
  }
}

TEST(CategoryCounter, KeepsFrequentValuesWhenPruned) {
  CategoryCounter c(10);
  for (int i = 0; i < 100000; ++i) c.Add("id" + std::to_string(i));
  for (int i = 0; i < 5000; ++i) c.Add("frequent");
  EXPECT_TRUE(c.Pruned());
  EXPECT_EQ(c.Top(1).front().first, "frequent");
}

TEST(TrainingOptions, RefusesUnknownAndOutOfRange) {
  EXPECT_THROW(ParseTrainingOptions(nlohmann::json::parse(R"({"l3": 1})")), Error);
  EXPECT_THROW(ParseTrainingOptions(nlohmann::json::parse(R"({"holdout": 1.5})")), Error);
  EXPECT_THROW(ParseTrainingOptions(nlohmann::json::parse(R"({"threshold": {"strategy": "precision"}})")), Error);
  TrainingOptions o = ParseTrainingOptions(nlohmann::json::parse(
      R"({"l2": 0.5, "class_weight": "balanced", "threshold": {"strategy": "alert_rate", "target": 0.01}})"));
  EXPECT_EQ(o.l2, 0.5);
  EXPECT_TRUE(o.balanced);
  EXPECT_EQ(o.threshold.kind, ThresholdStrategy::Kind::kAlertRate);
}

// A row-by-row holdout holds out round(fraction x rows) of each class exactly, and a seed
// always draws the same rows.
TEST(RowSplit, ExactPerClassAndReproducible) {
  for (double fraction : {0.1, 0.2, 0.35}) {
    std::vector<uint64_t> keys[2];
    std::vector<std::pair<uint64_t, bool>> rows;
    for (uint64_t position = 0; position < 10007; ++position) {
      const bool fraud = position % 37 == 0;
      rows.push_back({RowSplit::Key(position, 5), fraud});
      keys[fraud ? 1 : 0].push_back(rows.back().first);
    }
    const size_t positives = keys[1].size(), negatives = keys[0].size();
    const RowSplit split = RowSplit::Choose(keys, fraction);
    size_t held[2] = {0, 0};
    for (const auto& [key, fraud] : rows) held[fraud ? 1 : 0] += split.Side(key, fraud);
    EXPECT_EQ(held[1], static_cast<size_t>(std::llround(fraction * positives))) << fraction;
    EXPECT_EQ(held[0], static_cast<size_t>(std::llround(fraction * negatives))) << fraction;
  }
  EXPECT_EQ(RowSplit::Key(12345, 7), RowSplit::Key(12345, 7));
  EXPECT_NE(RowSplit::Key(12345, 7), RowSplit::Key(12345, 8));
  EXPECT_NE(RowSplit::Key(12345, 7), RowSplit::Key(12346, 7));
}

}  // namespace
}  // namespace pgfraud
