// Unit tests of training: optimality checked by perturbing the model it returns, merges,
// degenerate data, and metrics against hand counts.
#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "errors.hpp"
#include "trainer.hpp"

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
  double EstimatedRows() override { return static_cast<double>(rows_.size()); }

  int progress_lines = 0;

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
  Metrics m = Evaluate(h, 0.0, 0.5);
  EXPECT_NEAR(*m.roc_auc, 4.0 / 6.0 + 1.0 / 6.0, 1e-12);
  // Average precision: ranks 1 (P=1), 3 (P=2/3) -> (1 + 2/3) / 2.
  EXPECT_NEAR(*m.pr_auc, (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.tn, 2);
  EXPECT_EQ(m.fn, 0);
  ThresholdStrategy rate{ThresholdStrategy::Kind::kAlertRate, 0.2};
  Metrics top = Evaluate(h, 0.0, ChooseThreshold(h, rate));
  EXPECT_EQ(top.tp + top.fp, 1);
  ThresholdStrategy recall{ThresholdStrategy::Kind::kRecall, 1.0};
  Metrics all = Evaluate(h, 0.0, ChooseThreshold(h, recall));
  EXPECT_EQ(all.tp, 2);
  EXPECT_EQ(all.fp, 1);
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

}  // namespace
}  // namespace pgfraud
