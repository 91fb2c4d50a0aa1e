// Unit tests of training boosted trees with libxgboost: the trees pg_fraud trains from rows
// fed through XGBoost's data iterator score as XGBoost's own booster trained on the same
// inputs as one in-memory matrix; cancelling stops it; the holdout and the threshold follow
// the same rules as logistic regression.
#include <dlfcn.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "model/model_document.hpp"
#include "training/training_data.hpp"
#include "trees/tree_ensemble.hpp"
#include "trees/tree_training.hpp"
#include "trees/xgboost_import.hpp"
#include "trees/xgboost_library.hpp"

namespace pgfraud {
namespace {

struct Row {
  double amount;  // NaN: missing
  std::string country;
  bool online;
  bool fraud;
};

std::vector<Row> Rows(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const char* countries[] = {"FR", "DE", "XX", "US"};
  std::vector<Row> out;
  for (int i = 0; i < n; ++i) {
    Row r;
    r.amount = u(rng) < 0.05 ? NAN : std::round(u(rng) * 100000) / 100;
    r.country = countries[rng() % 4];
    r.online = u(rng) < 0.3;
    const double logit = -4 + (r.amount > 600 ? 2.5 : 0) + (r.country == "XX" ? 1.5 : 0) + (r.online ? 1 : 0) +
                         (std::isnan(r.amount) ? 1 : 0);
    r.fraud = u(rng) < 1 / (1 + std::exp(-logit));
    out.push_back(r);
  }
  return out;
}

// The round a progress line "boosting round N of M" reports; 0 for any other line.
int RoundOf(const std::string& line) {
  static const std::string kPrefix = "boosting round ";
  return line.rfind(kPrefix, 0) == 0 ? std::stoi(line.substr(kPrefix.size())) : 0;
}

class StreamRunner : public PassRunner {
 public:
  explicit StreamRunner(std::vector<Row> rows) : rows_(std::move(rows)) {}
  std::vector<FeatureValue> Values(const Row& r) const {
    return {std::isnan(r.amount) ? FeatureValue::Missing() : FeatureValue::Number(r.amount),
            FeatureValue::Text(r.country), FeatureValue::Bool(r.online), FeatureValue::Bool(r.fraud)};
  }
  TrainingStats Statistics(const PassSpec& spec) override {
    PassContext ctx(spec);
    TrainingStats stats = ctx.NewStatistics();
    for (const Row& r : rows_) ctx.AddToStatistics(stats, Values(r).data());
    return stats;
  }
  NewtonAccumulator Newton(const PassSpec&) override { throw Error(ErrorCode::kInternal, "no Newton for trees"); }
  void Stream(const PassSpec&, const RowSink& row) override {
    ++streams;
    // A source that changes between passes (a volatile view, say): rows added or dropped.
    const size_t n = streams == changing_pass ? rows_.size() + change : rows_.size();
    for (size_t i = 0; i < n; ++i) {
      if (!row(Values(rows_[i % rows_.size()]).data(), RowSplit::kNoPosition)) return;
    }
  }
  int changing_pass = 0;
  long change = 0;
  void Progress(const std::string& line) override {
    lines.push_back(line);
    // Rounds done while the caller was busy are reported together: the first line at or past
    // the round cancels.
    if (cancel_at_round > 0 && RoundOf(line) >= cancel_at_round) throw Error(ErrorCode::kDataException, "cancelled");
  }
  int Threads() override { return 2; }
  int streams = 0;
  int cancel_at_round = 0;
  std::vector<std::string> lines;

 private:
  std::vector<Row> rows_;
};

std::vector<TrainingColumn> Columns() {
  return {{"amount", ColumnKind::kNumeric}, {"country", ColumnKind::kCategorical}, {"online", ColumnKind::kBoolean}};
}

TrainingOptions Options(const char* extra = "") {
  return ParseTrainingOptions(nlohmann::json::parse(std::string(R"({"algorithm": "gradient_boosting", "trees": 30,
      "max_depth": 4, "learning_rate": 0.2)") + extra +
                                                    "}"));
}

// XGBoost's own booster on the same inputs as one matrix: its margins for those inputs.
std::vector<float> XGBoostMargins(const std::vector<float>& x, const std::vector<float>& y, size_t cols,
                                  const TrainingOptions& options) {
  void* lib = dlopen("libxgboost.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return {};
  auto create = reinterpret_cast<decltype(&XGDMatrixCreateFromMat)>(dlsym(lib, "XGDMatrixCreateFromMat"));
  auto set_info = reinterpret_cast<decltype(&XGDMatrixSetFloatInfo)>(dlsym(lib, "XGDMatrixSetFloatInfo"));
  auto booster_create = reinterpret_cast<decltype(&XGBoosterCreate)>(dlsym(lib, "XGBoosterCreate"));
  auto set_param = reinterpret_cast<decltype(&XGBoosterSetParam)>(dlsym(lib, "XGBoosterSetParam"));
  auto update = reinterpret_cast<decltype(&XGBoosterUpdateOneIter)>(dlsym(lib, "XGBoosterUpdateOneIter"));
  auto predict = reinterpret_cast<decltype(&XGBoosterPredict)>(dlsym(lib, "XGBoosterPredict"));
  const bst_ulong rows = y.size();
  DMatrixHandle m;
  EXPECT_EQ(create(x.data(), rows, cols, NAN, &m), 0);
  EXPECT_EQ(set_info(m, "label", y.data(), rows), 0);
  BoosterHandle b;
  EXPECT_EQ(booster_create(&m, 1, &b), 0);
  const std::pair<const char*, const char*> params[] = {{"objective", "binary:logistic"},
                                                        {"tree_method", "hist"},
                                                        {"max_depth", "4"},
                                                        {"eta", "0.2"},
                                                        {"nthread", "2"},
                                                        {"verbosity", "0"}};
  for (const auto& [k, v] : params) EXPECT_EQ(set_param(b, k, v), 0);
  for (int i = 0; i < options.boosting_options.trees; ++i) EXPECT_EQ(update(b, i, m), 0);
  bst_ulong len = 0;
  const float* out = nullptr;
  EXPECT_EQ(predict(b, m, 1 /* margin */, 0, 0, &len, &out), 0);
  return std::vector<float>(out, out + len);
}

TEST(TreeTraining, ScoresAsXGBoostTrainedOnTheSameMatrix) {
  const std::vector<Row> rows = Rows(20000, 7);
  StreamRunner runner(rows);
  const TrainingOptions options = Options(R"(, "holdout": 0)");
  TrainingResult result = TrainTrees(Columns(), "fraud", options, runner);
  ASSERT_TRUE(TreesOf(result.model));
  EXPECT_EQ(TreesOf(result.model)->trees.size(), 30u);
  EXPECT_EQ(result.training["booster"]["rows_boosted"].get<uint64_t>(), rows.size());
  // XGBoost asked for its passes; with nothing held out, no pass more (its margins of the
  // training rows give the threshold and the in-sample metrics).
  EXPECT_EQ(runner.streams, result.training["booster"]["passes_for_xgboost"].get<int>());
  // The same inputs as one matrix (amount, the kept countries one-hot, online).
  const Model& m = result.model;
  const TreeEnsemble& trees = *TreesOf(m);
  const size_t cols = trees.inputs.size();
  std::vector<float> x, y;
  std::vector<std::vector<FeatureValue>> values;
  for (const Row& r : rows) {
    values.push_back(runner.Values(r));
    std::vector<float> in(cols);
    trees.Inputs(m.features, values.back().data(), in.data());
    x.insert(x.end(), in.begin(), in.end());
    y.push_back(r.fraud ? 1.0f : 0.0f);
  }
  const std::vector<float> theirs = XGBoostMargins(x, y, cols, options);
  ASSERT_EQ(theirs.size(), rows.size()) << "libxgboost0 is not installed";
  double worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) worst = std::max(worst, std::fabs(m.Logit(values[i].data()) - theirs[i]));
  EXPECT_LT(worst, 1e-5);
  // The block scorer gives each row's Margin exactly (the same float32 additions).
  std::vector<float> block(rows.size());
  trees.Margins(x.data(), rows.size(), block.data());
  size_t differ = 0;
  for (size_t i = 0; i < rows.size(); ++i) differ += block[i] != trees.Margin(&x[i * cols]);
  EXPECT_EQ(differ, 0u);
  // Those metrics and that threshold are the ones pg_fraud's own scores of the rows give.
  ScoreHistogram ours;
  double loss = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double z = m.Logit(values[i].data());
    ours.Add(z, rows[i].fraud);
    loss += Softplus(z) - (rows[i].fraud ? z : 0.0);
  }
  const ThresholdChoice chosen = ChooseThreshold(ours, options.threshold);
  EXPECT_EQ(chosen.logit, *m.threshold_logit);
  const Metrics mine = Evaluate(ours, loss, chosen);
  EXPECT_EQ(mine.tp, result.metrics.tp);
  EXPECT_EQ(mine.fp, result.metrics.fp);
  EXPECT_DOUBLE_EQ(*mine.roc_auc, *result.metrics.roc_auc);
  EXPECT_NEAR(*mine.log_loss, *result.metrics.log_loss, 1e-9);
  // A document that survives its round trip, scoring alike.
  Model back = ModelFromJson(ModelToJson(m));
  EXPECT_DOUBLE_EQ(back.Logit(values[3].data()), m.Logit(values[3].data()));
  EXPECT_TRUE(result.metrics.roc_auc.has_value());
  EXPECT_GT(*result.metrics.roc_auc, 0.75);
}

TEST(TreeTraining, HoldsOutRowsAndChoosesTheThresholdOnTrainingRows) {
  StreamRunner runner(Rows(20000, 11));
  TrainingResult result = TrainTrees(Columns(), "fraud", Options(), runner);
  const double held = result.training["holdout_rows"].get<double>();
  EXPECT_NEAR(held / 20000.0, 0.2, 0.02);
  EXPECT_EQ(result.training["booster"]["rows_boosted"].get<double>(), result.training["training_rows"].get<double>());
  EXPECT_EQ(result.metrics.rows, held);
  EXPECT_FALSE(result.model.metrics["in_sample"].get<bool>());
  EXPECT_EQ(result.model.metrics["threshold_chosen_on"], "training rows");
}

TEST(TreeTraining, ACancelStopsWithinARound) {
  StreamRunner runner(Rows(20000, 3));
  runner.cancel_at_round = 10;
  TrainingOptions options = Options();
  options.boosting_options.trees = 10000;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(TrainTrees(Columns(), "fraud", options, runner), Error);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 60.0);  // 10,000 rounds would take minutes
  const std::string& last = runner.lines.back();
  const int round = RoundOf(last);
  ASSERT_GT(round, 0) << last;
  EXPECT_GE(round, 10) << last;
  EXPECT_LT(round, 10000) << last;
  // Every tenth round passed gave a line: the rounds reported before it are 1 and then one
  // per ten crossed.
  int previous = 0;
  for (const std::string& line : runner.lines) {
    const int r = RoundOf(line);
    if (r == 0) continue;
    EXPECT_TRUE(r == 1 || r / 10 > previous / 10) << line;
    previous = r;
  }
}

TEST(TreeTraining, ASourceWhosePassesDifferIsRefused) {
  for (long change : {1L, -1L, 5000L, -5000L}) {
    for (int pass : {2, 3, 4}) {
      StreamRunner runner(Rows(10000, 9));
      runner.changing_pass = pass;
      runner.change = change;
      try {
        TrainTrees(Columns(), "fraud", Options(R"(, "holdout": 0)"), runner);
        ADD_FAILURE() << "pass " << pass << " with " << change << " rows more trained";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kDataException) << e.what();
        EXPECT_NE(std::string(e.what()).find("on a later pass"), std::string::npos) << e.what();
      }
    }
  }
}

TEST(TreeTraining, XGBoostErrorsBecomeErrorsWithItsMessage) {
  const XGBoostLibrary& lib = XGBoostLibrary::Load();
  try {
    lib.Check(lib.DMatrixFree(nullptr), "free a matrix");
    FAIL() << "freeing no matrix succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kExternalRoutine);
    EXPECT_STREQ(e.what(), "XGBoost failed to free a matrix");
    EXPECT_FALSE(e.detail().empty());
    EXPECT_EQ(e.detail().find("Stack trace"), std::string::npos);
  }
  // A parameter XGBoost refuses, met on its thread while training: the same error, in the caller.
  StreamRunner runner(Rows(2000, 5));
  TrainingOptions options = Options();
  options.boosting_options.max_depth = -1;  // past the options' own checks
  try {
    TrainTrees(Columns(), "fraud", options, runner);
    FAIL() << "max_depth -1 trained";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kExternalRoutine) << e.what();
  }
}

TEST(TreeTraining, OptionsBelongToTheirAlgorithm) {
  auto parse = [](const char* text) { return ParseTrainingOptions(nlohmann::json::parse(text)); };
  EXPECT_THROW(parse(R"({"trees": 10})"), Error);
  EXPECT_THROW(parse(R"({"algorithm": "gradient_boosting", "l2": 1})"), Error);
  EXPECT_THROW(parse(R"({"algorithm": "gradient_boosting", "max_depth": 2.5})"), Error);
  EXPECT_THROW(parse(R"({"algorithm": "gradient_boosting", "learning_rate": 0})"), Error);
  EXPECT_THROW(parse(R"({"algorithm": "forest"})"), Error);
  EXPECT_EQ(parse(R"({"algorithm": "gradient_boosting", "trees": 7})").boosting_options.trees, 7);
}

}  // namespace
}  // namespace pgfraud
