// Newton iterations with step halving, threshold choice and the model document.
#include "linear/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "common/errors.hpp"
#include "evaluation/reference.hpp"
#include "linear/stored_pass.hpp"

namespace pgfraud {
namespace {

const char* ColumnKindName(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kNumeric: return "numeric";
    case ColumnKind::kCategorical: return "categorical";
    case ColumnKind::kBoolean: return "boolean";
    case ColumnKind::kTimestamp: return "timestamp";
    case ColumnKind::kDate: return "date";
    case ColumnKind::kNumericLog1p: return "numeric_log1p";
  }
  return "numeric";
}

ColumnKind ColumnKindFromName(const std::string& name) {
  for (ColumnKind k : {ColumnKind::kNumeric, ColumnKind::kCategorical, ColumnKind::kBoolean, ColumnKind::kTimestamp,
                       ColumnKind::kDate, ColumnKind::kNumericLog1p}) {
    if (name == ColumnKindName(k)) return k;
  }
  throw Error(ErrorCode::kInternal, "unknown column kind in a training spec");
}

std::string Fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

struct WarmStart {
  Eigen::VectorXd beta;
  size_t rows = 0;
  size_t positives = 0;
  int iterations = 0;
};

// A class-balanced sample of training rows, encoded, each class weighted back to its total.
struct Sample {
  NewtonAccumulator::Block x;
  std::vector<bool> labels;
  double weight[2] = {1.0, 1.0};
  size_t positives = 0;
};

// How many rows of each class a warm start may use: an iteration costs rows x dim^2 and the
// encoded rows take rows x dim doubles, so with many one-hot columns, fewer rows.
void FitSampleSizes(size_t dim, size_t available[2], size_t kept[2]) {
  constexpr double kMaxFlops = 5e8, kMaxValues = 4e6;
  const double budget = std::min(kMaxFlops / (static_cast<double>(dim) * dim), kMaxValues / dim);
  const double total = static_cast<double>(available[0] + available[1]);
  const double share = total > budget ? budget / total : 1.0;
  for (int c : {0, 1}) kept[c] = static_cast<size_t>(share * static_cast<double>(available[c]));
}

bool UsableSample(const size_t kept[2]) {
  constexpr size_t kMinimumRows = 200, kMinimumPerClass = 20;
  return kept[0] + kept[1] >= kMinimumRows && kept[0] >= kMinimumPerClass && kept[1] >= kMinimumPerClass;
}

void WeighClasses(const PassSpec& spec, const TrainingStats& stats, const size_t kept[2], Sample& sample) {
  sample.weight[0] =
      spec.negative_weight * (stats.training_rows - stats.training_positives) / static_cast<double>(kept[0]);
  sample.weight[1] = spec.positive_weight * stats.training_positives / static_cast<double>(kept[1]);
  sample.positives = kept[1];
}

// The rows the statistics pass kept whole (the smallest priorities of each class).
std::optional<Sample> SampleOfWholeRows(const PassSpec& spec, const Model& reading, const TrainingStats& stats) {
  const size_t n = reading.features.size(), dim = spec.encoding.dim;
  size_t available[2] = {stats.whole[0].size(), stats.whole[1].size()}, kept[2];
  FitSampleSizes(dim, available, kept);
  if (!UsableSample(kept)) return std::nullopt;
  std::vector<const StoredRow*> rows[2];
  for (int positive : {0, 1}) {
    for (const StoredRow& row : stats.whole[positive]) rows[positive].push_back(&row);
    std::sort(rows[positive].begin(), rows[positive].end(),
              [](const StoredRow* a, const StoredRow* b) { return a->priority < b->priority; });
    rows[positive].resize(kept[positive]);
  }
  Sample sample;
  WeighClasses(spec, stats, kept, sample);
  sample.x.resize(static_cast<long>(kept[0] + kept[1]), static_cast<long>(dim));
  std::vector<FeatureValue> values;
  try {
    for (int positive : {0, 1}) {
      for (const StoredRow* row : rows[positive]) {
        row->Restore(values);
        std::optional<bool> label = ReadLabel(reading.features[n - 1], values[n - 1]);
        if (!label || *label != (positive == 1)) throw Error(ErrorCode::kInternal, "a sampled row changed its label");
        spec.encoding.Encode(reading, values.data(), sample.x.row(static_cast<long>(sample.labels.size())).data());
        sample.labels.push_back(*label);
      }
    }
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInternal) throw;
    return std::nullopt;  // a value the model cannot read: the pass over the table reports it
  }
  return sample;
}

// Training rows of the store at an even stride through each class (the store holds every
// row: no hash-chosen sample was kept).
std::optional<Sample> SampleOfStoredRows(const PassSpec& spec, const TrainingStats& stats, size_t per_class) {
  const RowStore& store = stats.store;
  size_t available[2] = {0, 0}, kept[2];
  for (size_t r = 0; r < store.Rows(); ++r) {
    if (store.Holdout()[r] == 0) ++available[store.Labels()[r]];
  }
  size_t wanted[2] = {std::min(available[0], per_class), std::min(available[1], per_class)};
  FitSampleSizes(spec.encoding.dim, wanted, kept);
  if (!UsableSample(kept)) return std::nullopt;
  std::vector<size_t> rows;
  size_t seen[2] = {0, 0}, taken[2] = {0, 0};
  for (size_t r = 0; r < store.Rows(); ++r) {
    if (store.Holdout()[r] != 0) continue;
    const int c = store.Labels()[r];
    // Row i of a class is taken when floor(i * kept / available) moves: kept rows, evenly spread.
    if (taken[c] < kept[c] && seen[c] * kept[c] / available[c] == taken[c]) {
      rows.push_back(r);
      ++taken[c];
    }
    ++seen[c];
  }
  Sample sample;
  WeighClasses(spec, stats, taken, sample);
  EncodeStoredRows(store, spec.encoding, rows, sample.x);
  for (size_t r : rows) sample.labels.push_back(store.Labels()[r] != 0);
  return sample;
}

// Fits the model in memory on a sample of each class, each row weighted by its class's
// total / kept count, so the sample's objective (with the same L2 penalty) estimates the
// table's. Newton converges quadratically, so from this point the iterations over every row
// need a few steps instead of many. Returns nothing when the sample gives no usable point (no
// convergence, a singular system): training then starts at the base rate.
std::optional<WarmStart> FitOnSample(const Sample& sample, double l2, Eigen::VectorXd beta) {
  const size_t dim = static_cast<size_t>(sample.x.cols());
  const auto pass = [&](const Eigen::VectorXd& at, bool) {
    NewtonAccumulator sums(dim, true);
    const Eigen::VectorXd logits = sample.x * at;
    for (size_t r = 0; r < sample.labels.size(); ++r) {
      sums.AddTraining(sample.x.row(static_cast<long>(r)).data(), sample.labels[r],
                       sample.weight[sample.labels[r] ? 1 : 0], logits[static_cast<long>(r)]);
    }
    sums.Flush();
    return sums;
  };
  try {
    NewtonRun run = Minimise(std::move(beta), l2, 1e-10, 50, pass, [](int, int, double, double) {});
    if (!run.converged) return std::nullopt;
    return WarmStart{run.beta, sample.labels.size(), sample.positives, run.iterations};
  } catch (const Error&) {
    return std::nullopt;  // a singular system on the sample: the passes over the table decide
  }
}

}  // namespace

nlohmann::json PassSpec::ToJson() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const TrainingColumn& c : columns) cols.push_back({c.name, ColumnKindName(c.kind)});
  nlohmann::json j = {{"columns", cols},
                      {"label", label},
                      {"seed", seed},
                      {"holdout", holdout},
                      {"category_capacity", category_capacity},
                      {"whole_rows", whole_rows},
                      {"whole_cutoff", whole_cutoff},
                      {"whole_cutoff_positive", whole_cutoff_positive},
                      {"store_budget", store_budget},
                      {"expected_rows", expected_rows},
                      {"hand_over", hand_over},
                      {"pipeline", pipeline},
                      {"newton", newton}};
  if (row_split) j["row_split"] = row_split->ToJson();
  if (!missing_values.empty()) j["missing_values"] = missing_values;
  if (newton) {
    j["encoding"] = encoding.ToJson();
    j["beta"] = beta;
    j["weights"] = {negative_weight, positive_weight};
    j["with_hessian"] = with_hessian;
    j["evaluate_all"] = evaluate_all;
    j["scores"] = scores;
  }
  return j;
}

PassSpec PassSpec::FromJson(const nlohmann::json& j) {
  PassSpec s;
  for (const auto& c : j.at("columns")) s.columns.push_back({c[0].get<std::string>(), ColumnKindFromName(c[1])});
  s.label = j.at("label").get<std::string>();
  s.seed = j.at("seed").get<uint64_t>();
  s.holdout = j.at("holdout").get<double>();
  s.category_capacity = j.at("category_capacity").get<size_t>();
  s.whole_rows = j.at("whole_rows").get<size_t>();
  s.whole_cutoff = j.at("whole_cutoff").get<uint64_t>();
  s.whole_cutoff_positive = j.value("whole_cutoff_positive", UINT64_MAX);
  s.store_budget = std::min(j.value("store_budget", size_t{0}), kMaxStoreBytes);
  s.expected_rows = j.value("expected_rows", size_t{0});
  s.hand_over = j.value("hand_over", false);
  s.pipeline = j.value("pipeline", false);
  s.newton = j.at("newton").get<bool>();
  if (j.contains("row_split")) s.row_split = RowSplit::FromJson(j.at("row_split"));
  if (j.contains("missing_values")) s.missing_values = j.at("missing_values").get<std::vector<std::string>>();
  if (s.newton) {
    s.encoding = Encoding::FromJson(j.at("encoding"));
    s.beta = j.at("beta").get<std::vector<double>>();
    s.negative_weight = j.at("weights")[0].get<double>();
    s.positive_weight = j.at("weights")[1].get<double>();
    s.with_hessian = j.at("with_hessian").get<bool>();
    s.evaluate_all = j.at("evaluate_all").get<bool>();
    s.scores = j.value("scores", true);
    if (s.beta.size() != s.encoding.dim) throw Error(ErrorCode::kInternal, "training spec beta does not fit");
  }
  return s;
}

PassContext::PassContext(PassSpec spec)
    : spec_(std::move(spec)), reading_(ReadingModel(spec_.columns, spec_.label, spec_.missing_values)) {
  if (spec_.newton) {
    beta_ = Eigen::Map<const Eigen::VectorXd>(spec_.beta.data(), static_cast<long>(spec_.beta.size()));
    x_.assign(spec_.encoding.dim, 0.0);
  }
}

TrainingStats PassContext::NewStatistics(bool reserve) const {
  TrainingStats stats(reading_, spec_.category_capacity, spec_.whole_rows, spec_.whole_cutoff, spec_.store_budget,
                      reserve ? spec_.expected_rows : 0, spec_.whole_cutoff_positive);
  stats.hand_over = spec_.hand_over;
  return stats;
}

void PassContext::AddToStatistics(TrainingStats& stats, const FeatureValue* values, uint64_t position) const {
  stats.Add(reading_, values, spec_.seed, spec_.holdout, spec_.row_split ? &*spec_.row_split : nullptr, position);
}

void PassContext::AddPlainToStatistics(TrainingStats& stats, const uint8_t* kinds, const double* numbers,
                                       uint64_t position) const {
  stats.AddPlain(reading_, kinds, numbers, spec_.seed, spec_.holdout, spec_.row_split ? &*spec_.row_split : nullptr,
                 position);
}

void PassContext::AddToNewton(NewtonAccumulator& acc, const FeatureValue* values, uint64_t position) {
  const size_t n = reading_.features.size();
  std::optional<bool> label = ReadLabel(reading_.features[n - 1], values[n - 1]);
  if (!label) return;
  const bool holdout = HeldOut(spec_.row_split ? &*spec_.row_split : nullptr, position, *label, spec_.seed,
                               spec_.holdout, [&] { return HoldoutHash(values, n, *label, spec_.seed); });
  spec_.encoding.Encode(reading_, values, x_.data());
  const double logit = beta_.dot(Eigen::Map<const Eigen::VectorXd>(x_.data(), static_cast<long>(x_.size())));
  if (holdout || spec_.evaluate_all) acc.AddEvaluation(*label, logit);
  if (!holdout) {
    acc.AddTraining(x_.data(), *label, *label ? spec_.positive_weight : spec_.negative_weight, logit);
  }
}

double PositiveFraction(const Feature& label, const std::optional<ValueFrequencies>& frequencies) {
  if (!frequencies || frequencies->null_fraction >= 1.0) return 0.0;
  double listed = 0.0, positive = 0.0;
  for (const auto& [value, share] : frequencies->common) {
    std::optional<bool> parsed;
    try {
      parsed = ReadLabel(label, FeatureValue::Text(value));
    } catch (const Error&) {
      return 0.0;  // a value training would refuse: the pass reports it
    }
    listed += share;
    if (parsed && *parsed) positive += share;
  }
  const double labelled = 1.0 - frequencies->null_fraction;
  if (listed < labelled - 0.001) return 0.0;  // values left out: their labels are unknown
  return std::clamp(positive / labelled, 0.0, 1.0);
}

namespace {

// Notices about the holdout: a class with too few held-out rows to measure anything, and a
// hash holdout (sources read through queries, or rows that did not fit in memory) whose
// share of a class is far from the fraction asked for (rows with equal values hash alike).
void CheckHoldout(const TrainingOptions& options, const TrainingStats& stats, bool by_row,
                  std::vector<std::string>* notices) {
  if (options.holdout <= 0) return;
  const double held[2] = {stats.holdout_rows - stats.holdout_positives, stats.holdout_positives};
  const double all[2] = {held[0] + stats.training_rows - stats.training_positives, held[1] + stats.training_positives};
  const char* names[2] = {"legitimate", "fraudulent"};
  for (int c = 0; c < 2; ++c) {
    if (all[c] == 0) continue;
    if (held[c] < 10) {
      notices->push_back("the holdout has " + Fixed(held[c], 0) + " " + names[c] + " rows: too few to measure " +
                         "precision, recall or AUC on; give more rows, a larger \"holdout\" or a \"holdout_column\"");
      continue;
    }
    const double share = held[c] / all[c], f = options.holdout;
    const double spread = std::sqrt(f * (1 - f) / all[c]);
    if (!by_row && std::abs(share - f) > 0.01 * f + 4 * spread) {
      notices->push_back("the holdout holds " + Fixed(100 * share, 1) + "% of the " + names[c] + " rows, not " +
                         Fixed(100 * f, 1) + "%: a source read through a query is held out by the rows' values, " +
                         "and rows with equal values fall on one side; give a \"holdout_column\" for an exact split");
    }
  }
}

}  // namespace

TrainingStats RunStatistics(PassSpec& spec, const TrainingOptions& options, PassRunner& runner,
                            TrainingResult* result) {
  // An exact holdout where the rows have positions, or the sides the rows come with.
  spec.row_split = options.marked_holdout ? RowSplit::Marked()
                   : spec.holdout > 0     ? runner.DrawRowSplit(spec)
                                          : std::nullopt;
  TrainingStats stats = runner.Statistics(spec);
  stats.Settle();  // the moments' last batch, should the runner not have folded it in
  runner.Progress("pass 1 (statistics): " + Fixed(stats.rows, 0) + " rows, " + Fixed(stats.training_rows, 0) +
                  " for training, " + Fixed(stats.holdout_rows, 0) + " held out, " + Fixed(stats.null_labels, 0) +
                  " without a label");
  CheckHoldout(options, stats, spec.row_split.has_value(), &result->notices);
  if (stats.training_rows == 0) {
    throw Error(ErrorCode::kDataException, "no labelled rows to train on",
                "The source is empty, every label is NULL, or every row fell in the holdout.");
  }
  if (stats.training_positives == 0 || stats.training_positives == stats.training_rows) {
    throw Error(ErrorCode::kDataException, "training needs both fraudulent and legitimate rows",
                "Every labelled training row has the same label.");
  }
  return stats;
}

void Conclude(const TrainingOptions& options, const Encoding& encoding, const TrainingStats& stats,
              const NewtonAccumulator& evaluation, PassRunner& runner, TrainingResult* result) {
  const bool in_sample = stats.holdout_rows == 0;
  const ThresholdChoice threshold = ChooseThreshold(evaluation.training_scores, options.threshold);
  result->metrics = Evaluate(evaluation.evaluation, evaluation.evaluation_loss, threshold);
  runner.Progress("evaluation: " + Fixed(result->metrics.rows, 0) +
                  (in_sample ? " training rows (in-sample)" : " holdout rows") +
                  (result->metrics.roc_auc ? ", ROC AUC " + Fixed(*result->metrics.roc_auc, 4) : std::string()));
  Model& model = result->model;
  if (!options.missing_values.empty()) model.SetMissingValues(options.missing_values);
  AttachReferences(model, encoding, stats);
  model.extra["reference"] = {{"score", ScoreReference(evaluation.evaluation)},
                              {"rows", in_sample ? "training" : "holdout"}};
  model.threshold = threshold.probability;
  model.threshold_logit = threshold.DocumentLogit();
  model.metrics = result->metrics.ToJson();
  model.metrics["in_sample"] = in_sample;
  model.metrics["threshold_strategy"] = ThresholdStrategyJson(options.threshold);
  model.metrics["threshold_chosen_on"] = "training rows";
  auto count = [](double c) { return static_cast<int64_t>(std::llround(c)); };
  result->training = {{"options", options.given},
                      {"rows", count(stats.rows)},
                      {"null_labels", count(stats.null_labels)},
                      {"training_rows", count(stats.training_rows)},
                      {"training_positives", count(stats.training_positives)},
                      {"holdout_rows", count(stats.holdout_rows)},
                      {"holdout_positives", count(stats.holdout_positives)},
                      {"class_weight", options.balanced ? "balanced" : "none"},
                      {"seed", options.seed},
                      {"holdout", options.holdout},
                      {"notices", result->notices}};
}

TrainingResult Train(const std::vector<TrainingColumn>& columns, const std::string& label,
                     const TrainingOptions& options, PassRunner& runner) {
  TrainingResult result;
  PassSpec spec;
  spec.columns = columns;
  spec.label = label;
  spec.seed = options.seed;
  spec.holdout = options.holdout;
  spec.category_capacity = std::max<size_t>(1000, 20 * static_cast<size_t>(options.max_categories));
  // At most ~4M values kept whole (32 MB of numbers per worker), however wide the table.
  constexpr size_t kWholeValues = size_t{1} << 22;
  spec.whole_rows = std::min(static_cast<size_t>(options.warm_start_rows), kWholeValues / (columns.size() + 1));
  // Priorities are uniform hashes: with an estimate of a class's rows, only the lowest
  // fraction of them can be among the whole_rows / 2 smallest, so parallel workers keep and
  // send about that many between them instead of that many each. Legitimate rows are
  // counted as every row unless the label's statistics give the fraudulent share, which
  // then cuts the fraudulent rows too (margins: 1.25 and 1.5 for estimates that are too high;
  // a cut too tight leaves the warm start a smaller sample, nothing worse).
  spec.missing_values = options.missing_values;
  const Model reading = ReadingModel(columns, label, options.missing_values);
  const double expected = runner.EstimatedRows() * (1.0 - options.holdout);
  const double positive_share = PositiveFraction(reading.features.back(), runner.LabelFrequencies());
  if (spec.whole_rows > 0 && expected > 0) {
    const double per_class = static_cast<double>(spec.whole_rows / 2);
    const double legitimate = 1.25 * per_class / (expected * (1.0 - positive_share));
    if (legitimate < 1.0) spec.whole_cutoff = static_cast<uint64_t>(std::ldexp(legitimate, 64));
    const double fraudulent = positive_share > 0 ? 1.5 * per_class / (expected * positive_share) : 1.0;
    if (fraudulent < 1.0) spec.whole_cutoff_positive = static_cast<uint64_t>(std::ldexp(fraudulent, 64));
  }
  // Every row in memory when the estimate says the source fits the budget (an unknown
  // estimate tries; the store gives up at the budget and the passes go over the table).
  const size_t budget = options.in_memory ? std::min(runner.MemoryBudget(), kMaxStoreBytes) : 0;
  const double estimated_rows = runner.EstimatedRows();
  if (budget > 0 && estimated_rows * static_cast<double>(RowStore::RowBytes(reading.features.size() - 1)) <=
                        0.9 * static_cast<double>(budget)) {
    spec.store_budget = budget;
    spec.expected_rows = static_cast<size_t>(estimated_rows * 1.05) + 1024;
    // The warm start samples the stored rows; should they not fit after all, the passes
    // over the table start at the base rate.
    spec.whole_rows = 0;
    // The pass runs in the backend alone: a second core, when the query may use one, adds
    // the rows to the statistics while the backend reads the next ones.
    spec.pipeline = runner.Threads() > 1;
  }

  TrainingStats stats = RunStatistics(spec, options, runner, &result);
  // Complete: every row the pass read is in memory (not only the last worker's, say).
  const bool in_memory =
      stats.store.Complete() && static_cast<double>(stats.store.Rows()) == stats.training_rows + stats.holdout_rows;
  spec.encoding = BuildEncoding(reading, stats, static_cast<size_t>(options.max_categories), &result.notices);
  if (spec.encoding.features.empty()) {
    throw Error(ErrorCode::kDataException, "no usable feature columns",
                "Name numeric, text, boolean or date/time columns in the \"features\" option.");
  }
  for (const std::string& notice : result.notices) runner.Progress(notice);

  const double n = stats.training_rows, pos = stats.training_positives;
  if (options.balanced) {
    spec.positive_weight = n / (2.0 * pos);
    spec.negative_weight = n / (2.0 * (n - pos));
  }
  spec.newton = true;
  const bool in_sample = stats.holdout_rows == 0;
  spec.evaluate_all = in_sample;  // every Newton pass also evaluates, so the last one is reused
  const long dim = static_cast<long>(spec.encoding.dim);
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(dim);
  // Start at the base rate: one Newton step fewer, and no wild first step on skewed data.
  const double wpos = spec.positive_weight * pos, wneg = spec.negative_weight * (n - pos);
  beta[0] = std::log(wpos / wneg);
  std::optional<Sample> sample = in_memory
                                     ? SampleOfStoredRows(spec, stats, static_cast<size_t>(options.warm_start_rows) / 2)
                                     : SampleOfWholeRows(spec, reading, stats);
  const std::optional<WarmStart> warm = sample ? FitOnSample(*sample, options.l2, beta) : std::nullopt;
  sample.reset();
  if (warm) {
    beta = warm->beta;
    runner.Progress("warm start: fitted on " + std::to_string(warm->rows) + " sampled training rows (" +
                    std::to_string(warm->positives) + " fraudulent, weighted back to their share) in " +
                    std::to_string(warm->iterations) + " iterations");
  }

  // A Newton iteration's sums: over the rows in memory, or a pass over the table.
  // In memory the evaluation waits for the final beta and reads the logits of its iteration.
  // Over a table, only a pass that may be the last fills the score histograms the evaluation
  // reads (over shards they are most of a pass's bytes): one after an iteration whose
  // decrement was within sqrt(tol) of the objective, where Newton's quadratic convergence
  // expects the next to meet tol, or the first when the warm start was fitted on every
  // training row (it starts at the optimum). A pass that converged without them is followed
  // by one that fills them, at the same beta.
  std::vector<double> logits;
  const int threads = in_memory ? runner.Threads() : 1;
  bool scores_wanted = warm && static_cast<double>(warm->rows) >= stats.training_rows;
  const auto sums_at = [&](const Eigen::VectorXd& at, bool exact) {
    spec.beta.assign(at.data(), at.data() + dim);
    spec.scores = scores_wanted;
    if (!in_memory) return runner.Newton(spec);
    const StoredPassSpec stored{&spec.encoding,
                                spec.negative_weight,
                                spec.positive_weight,
                                spec.with_hessian,
                                exact ? 1 : HessianStride(stats.store.Rows()),
                                &logits,
                                threads};
    return StoredPass(stats.store, stored, at);
  };
  const auto report = [&](int passes, int iteration, double objective, double decrement) {
    runner.Progress((in_memory ? "Newton " + std::to_string(iteration) + " (" + std::to_string(stats.store.Rows()) +
                                     " rows in memory)"
                               : "pass " + std::to_string(passes + 1) + " (Newton " + std::to_string(iteration) + ")") +
                    ": objective " + Fixed(objective, 6) + ", decrement " + Fixed(decrement, 9));
    scores_wanted = decrement / 2 <= std::sqrt(options.tol) * std::max(1.0, std::fabs(objective));
  };
  NewtonRun run = Minimise(beta, options.l2, options.tol, options.max_iter, sums_at, report);
  if (!run.finite) throw Error(ErrorCode::kDataException, "training diverged", "Increase the \"l2\" option.");
  beta = run.beta;
  const bool converged = run.converged;
  int passes = 1 + (in_memory ? 0 : run.passes);
  const int iterations = run.iterations, halvings = run.halvings;
  const double objective = run.objective;
  NewtonAccumulator evaluation = std::move(run.last);  // the last pass, when it was run at the final beta
  if (run.stalled) {
    result.notices.push_back("training stopped after " + std::to_string(iterations) +
                             " Newton iterations without converging: no step decreased the objective further; "
                             "the model is the best point reached (a larger \"l2\" may help)");
    runner.Progress(result.notices.back());
  } else if (!converged) {
    result.notices.push_back("training stopped after max_iter = " + std::to_string(options.max_iter) +
                             " Newton iterations without converging");
    runner.Progress(result.notices.back());
  }

  if (in_memory) {
    if (!converged) {  // the last step moved beta after the last iteration's logits
      const StoredPassSpec stored{&spec.encoding, spec.negative_weight, spec.positive_weight, false, 1, &logits,
                                  threads};
      StoredPass(stats.store, stored, beta);
    }
    evaluation = StoredEvaluation(stats.store, logits, spec.encoding.dim, spec.evaluate_all);
    spec.beta.assign(beta.data(), beta.data() + dim);
  } else if (!converged || !spec.scores) {  // spec.scores: the last pass's
    // The last step moved beta after the last pass, or the last pass left the scores out:
    // one more pass at beta, without the Hessian.
    spec.with_hessian = false;
    scores_wanted = true;
    evaluation = sums_at(beta, true);
    ++passes;
  }
  // The threshold is chosen on the training rows and the metrics at it measured on the
  // holdout (in-sample: the same rows, as the metrics say).
  result.model = spec.encoding.ToModel(reading, spec.beta.data());
  result.model.label = label;
  Conclude(options, spec.encoding, stats, evaluation, runner, &result);
  result.training.update({{"passes", passes},
                          {"in_memory", in_memory},
                          {"threads", threads},
                          {"newton_iterations", iterations},
                          {"step_halvings", halvings},
                          {"converged", converged},
                          {"objective", objective},
                          {"l2", options.l2},
                          {"warm_start_rows", warm ? nlohmann::json(warm->rows) : nlohmann::json(nullptr)}});
  return result;
}

}  // namespace pgfraud
