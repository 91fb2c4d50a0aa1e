// Gradient-boosted trees trained with libxgboost (see the header).
#include "trees/tree_training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/errors.hpp"
#include "common/parallel_ranges.hpp"
#include "evaluation/reference.hpp"
#include "model/model_document.hpp"
#include "trees/booster_trainer.hpp"
#include "trees/tree_ensemble.hpp"
#include "trees/xgboost_import.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

std::string Text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

// The model's features (one per encoded feature, in the encoding's order, so that drift
// references attach as for logistic regression) and the trees' inputs: one per number,
// boolean, hour or weekday, one per kept category of a categorical feature (one-hot; a
// category not kept, and a missing value, give 0 in each).
json FeaturesAndInputs(const Model& reading, const Encoding& encoding, json* inputs) {
  json features = json::array();
  *inputs = json::array();
  for (size_t k = 0; k < encoding.features.size(); ++k) {
    const EncodedFeature& e = encoding.features[k];
    const Feature& f = reading.features[e.source];
    json feature = {{"name", f.name}, {"kind", FeatureKindName(f.kind)}};
    if (f.log1p) feature["transform"] = "log1p";
    features.push_back(feature);
    if (f.kind == FeatureKind::kCategorical) {
      for (const std::string& c : e.categories) inputs->push_back({{"feature", k}, {"equals", c}});
    } else {
      inputs->push_back({{"feature", k}});
    }
  }
  return features;
}

// XGBoost's parameters for the options, nthread and the seed included.
BoosterParams Params(const TrainingOptions& options, int threads, size_t inputs) {
  const BoostingOptions& b = options.boosting_options;
  BoosterParams p;
  p.rounds = b.trees;
  p.threads = threads;
  p.max_bin = b.max_bin;
  p.inputs = inputs;
  // Rows a batch: about 4 MB of inputs, at least 1,024 and at most 65,536 rows.
  p.batch_rows = std::clamp<size_t>((size_t{1} << 20) / std::max<size_t>(inputs, 1), 1024, 65536);
  p.booster = {{"objective", "binary:logistic"},
               {"tree_method", "hist"},
               {"nthread", std::to_string(threads)},
               {"max_bin", std::to_string(b.max_bin)},
               {"max_depth", std::to_string(b.max_depth)},
               {"eta", Text(b.learning_rate)},
               {"min_child_weight", Text(b.min_child_weight)},
               {"subsample", Text(b.subsample)},
               {"colsample_bytree", Text(b.colsample_bytree)},
               {"lambda", Text(b.reg_lambda)},
               {"alpha", Text(b.reg_alpha)},
               {"gamma", Text(b.gamma)},
               {"seed", std::to_string(options.seed % 2147483648ULL)},
               {"verbosity", "0"}};
  return p;
}

// Reads a row's values into the model's order (its features are a subset of the reading
// model's) and tells whether it trains, is held out, or has no label.
class RowRouter {
 public:
  RowRouter(const PassSpec& spec, const Model& reading, const Encoding& encoding, const Model& model)
      : spec_(spec), reading_(reading), model_(model) {
    for (const EncodedFeature& e : encoding.features) sources_.push_back(e.source);
    values_.resize(sources_.size());
  }
  // The row's label, or nullopt without one; *held: whether the holdout has it.
  std::optional<bool> Route(const FeatureValue* values, uint64_t position, bool* held) {
    const size_t n = reading_.features.size();
    std::optional<bool> label = ReadLabel(reading_.features[n - 1], values[n - 1]);
    if (!label) return label;
    *held = HeldOut(spec_.row_split ? &*spec_.row_split : nullptr, position, *label, spec_.seed, spec_.holdout,
                    [&] { return HoldoutHash(values, n, *label, spec_.seed); });
    for (size_t k = 0; k < sources_.size(); ++k) values_[k] = values[sources_[k]];
    return label;
  }
  const FeatureValue* Values() const { return values_.data(); }
  const Model& model() const { return model_; }

 private:
  const PassSpec& spec_;
  const Model& reading_;
  const Model& model_;
  std::vector<size_t> sources_;
  std::vector<FeatureValue> values_;
};

// Boosts on the training rows; returns XGBoost's JSON of the booster.
std::string Boost(const TrainingOptions& options, const PassSpec& spec, RowRouter& router, double weights[2],
                  PassRunner& runner, json* record, std::vector<float>* margins, std::vector<float>* labels) {
  const XGBoostLibrary& lib = XGBoostLibrary::Load();
  const int threads = options.boosting_options.threads > 0 ? options.boosting_options.threads : runner.Threads();
  const TreeEnsemble& trees = *TreesOf(router.model());
  const BoosterParams params = Params(options, threads, trees.inputs.size());
  const auto idle = [&runner] { runner.CheckCancel(); };
  BoosterTrainer trainer(lib, params);
  int passes = 0, round = 0, reported = 0;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const BoosterTrainer::Event event = trainer.Wait(idle, &round);
    if (event == BoosterTrainer::Event::kDone) break;
    if (event == BoosterTrainer::Event::kRound) {
      // Rounds finished while the caller was busy come as one event (round may jump from 9 to
      // 12): a line each time a tenth round is passed, with the rounds done.
      if (round == 1 || round == params.rounds || round / 10 > reported / 10) {
        runner.Progress("boosting round " + std::to_string(round) + " of " + std::to_string(params.rounds));
        reported = round;
      }
      continue;
    }
    ++passes;
    runner.Stream(spec, [&](const FeatureValue* values, uint64_t position) {
      bool held = false;
      const std::optional<bool> label = router.Route(values, position, &held);
      if (!label || held) return true;
      trees.Inputs(router.model().features, router.Values(), trainer.Row());
      return trainer.EndRow(*label ? 1.0f : 0.0f, static_cast<float>(weights[*label ? 1 : 0]), idle);
    });
    trainer.EndPass(idle);
    runner.Progress("pass " + std::to_string(passes + 1) +
                    " (XGBoost reads the rows): " + std::to_string(trainer.Rows()) + " training rows");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  *record = {{"library", "libxgboost " + lib.version},
             {"passes_for_xgboost", passes},
             {"rows_boosted", trainer.Rows()},
             {"threads", threads},
             {"seconds", std::round(seconds * 1000) / 1000},
             {"parameters", json::object()}};
  for (const auto& [name, value] : params.booster) (*record)["parameters"][name] = value;
  (*record)["parameters"]["num_boost_round"] = params.rounds;
  *margins = trainer.TakeMargins();
  *labels = trainer.TakeLabels();
  return trainer.TakeModel();
}

// The training rows' scores (for the threshold; and the evaluation rows when none is held
// out) from XGBoost's margins of its matrix, and one pass scoring the held-out rows with
// pg_fraud's evaluator, when there are any. Each row's inputs are read as it comes (its values
// live only during its call); the trees run over batches of them on the runner's threads.
NewtonAccumulator Evaluate(const PassSpec& spec, RowRouter& router, bool in_sample, const std::vector<float>& margins,
                           const std::vector<float>& labels, PassRunner& runner) {
  constexpr size_t kBatch = 16384;
  const TreeEnsemble& trees = *TreesOf(router.model());
  const size_t width = trees.inputs.size();
  const int threads = runner.Threads();
  std::vector<float> x(kBatch * width);
  NewtonAccumulator out(1, false);
  for (size_t r = 0; r < margins.size(); ++r) {
    out.training_scores.Add(margins[r], labels[r] != 0);
    if (in_sample) out.AddEvaluation(labels[r] != 0, margins[r]);
  }
  if (in_sample) return out;
  std::vector<float> held_margins(kBatch);
  std::vector<uint8_t> held_labels(kBatch);
  size_t rows = 0;
  const auto flush = [&] {
    ForEachRange(rows, 1024, threads, [&](int, size_t begin, size_t end) {
      trees.Margins(&x[begin * width], end - begin, &held_margins[begin]);
    });
    for (size_t r = 0; r < rows; ++r) out.AddEvaluation(held_labels[r] != 0, held_margins[r]);
    rows = 0;
  };
  runner.Stream(spec, [&](const FeatureValue* values, uint64_t position) {
    bool is_held = false;
    const std::optional<bool> label = router.Route(values, position, &is_held);
    if (!label || !is_held) return true;
    trees.Inputs(router.model().features, router.Values(), &x[rows * width]);
    held_labels[rows] = *label ? 1 : 0;
    if (++rows == kBatch) flush();
    return true;
  });
  flush();
  return out;
}

}  // namespace

TrainingResult TrainTrees(const std::vector<TrainingColumn>& columns, const std::string& label,
                          const TrainingOptions& options, PassRunner& runner) {
  TrainingResult result;
  PassSpec spec;
  spec.columns = columns;
  spec.label = label;
  spec.seed = options.seed;
  spec.holdout = options.holdout;
  spec.category_capacity = std::max<size_t>(1000, 20 * static_cast<size_t>(options.max_categories));
  spec.whole_rows = 0;    // no warm start: trees start from the base score
  spec.store_budget = 0;  // and keep no rows: XGBoost keeps its quantised matrix
  spec.missing_values = options.missing_values;
  const Model reading = ReadingModel(columns, label, options.missing_values);
  TrainingStats stats = RunStatistics(spec, options, runner, &result);
  const Encoding encoding = BuildEncoding(reading, stats, static_cast<size_t>(options.max_categories), &result.notices);
  if (encoding.features.empty()) {
    throw Error(ErrorCode::kDataException, "no usable feature columns",
                "Name numeric, text, boolean or date/time columns in the \"features\" option.");
  }
  for (const std::string& notice : result.notices) runner.Progress(notice);

  // The document being built: features and inputs now, the trees once boosted (until then
  // one leaf, which reads nothing).
  json inputs;
  const json leaf = {{"left", {-1}},        {"right", {-1}}, {"input", {0}}, {"threshold", {0}},
                     {"default_left", {0}}, {"value", {0}},  {"cover", {1}}};
  json doc = {{"format", "pg_fraud.model/1"},
              {"algorithm", "gradient_boosting"},
              {"features", FeaturesAndInputs(reading, encoding, &inputs)},
              {"trees", {{"base_margin", 0.0}, {"inputs", inputs}, {"trees", {leaf}}}}};
  Model shape = ModelFromJson(doc);  // reads the rows' inputs while boosting
  RowRouter shaped(spec, reading, encoding, shape);
  const double n = stats.training_rows, pos = stats.training_positives;
  double weights[2] = {1.0, 1.0};
  if (options.balanced) weights[1] = n / (2.0 * pos), weights[0] = n / (2.0 * (n - pos));
  json booster_record;
  std::vector<float> margins, labels;
  const std::string booster = Boost(options, spec, shaped, weights, runner, &booster_record, &margins, &labels);
  json trees = XGBoostTrees(json::parse(booster));
  trees["inputs"] = inputs;
  doc["trees"] = trees;
  doc["label"] = label;
  result.model = ModelFromJson(doc);

  const bool in_sample = stats.holdout_rows == 0;
  RowRouter router(spec, reading, encoding, result.model);
  NewtonAccumulator evaluation = Evaluate(spec, router, in_sample, margins, labels, runner);
  Conclude(options, encoding, stats, evaluation, runner, &result);
  result.training.update({{"algorithm", "gradient_boosting"},
                          {"passes", (in_sample ? 1 : 2) + booster_record["passes_for_xgboost"].get<int>()},
                          {"in_memory", false},
                          {"trees", TreesOf(result.model)->trees.size()},
                          {"booster", booster_record}});
  return result;
}

}  // namespace pgfraud
