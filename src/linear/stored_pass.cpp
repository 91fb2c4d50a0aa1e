// Encodes stored rows as Encoding::Encode encodes values, a block of rows at a time.
#include "linear/stored_pass.hpp"

#include <algorithm>
#include <cmath>

#include "common/parallel_ranges.hpp"

namespace pgfraud {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Per categorical feature: the column within the feature of each dictionary entry (its
// place among the encoding's sorted categories, or the "other" column).
std::vector<std::vector<size_t>> CategoryColumns(const RowStore& store, const Encoding& encoding) {
  std::vector<std::vector<size_t>> columns(encoding.features.size());
  for (size_t k = 0; k < encoding.features.size(); ++k) {
    const EncodedFeature& e = encoding.features[k];
    if (e.kind != FeatureKind::kCategorical) continue;
    for (const std::string& text : store.Dictionary(e.source)) {
      auto it = std::lower_bound(e.categories.begin(), e.categories.end(), text);
      columns[k].push_back(it != e.categories.end() && *it == text ? static_cast<size_t>(it - e.categories.begin())
                                                                   : e.width - 1);
    }
  }
  return columns;
}

// The numeric features apart (most of a model, read in a tight loop without a switch on
// the kind or a division per value); the other kinds as Encoding::Encode reads them.
struct NumericPlan {
  std::vector<size_t> source, offset;
  std::vector<double> mean, inverse_scale;
  std::vector<size_t> others;  // indexes into encoding.features
};

NumericPlan PlanNumeric(const Encoding& encoding) {
  NumericPlan plan;
  for (size_t k = 0; k < encoding.features.size(); ++k) {
    const EncodedFeature& e = encoding.features[k];
    if (e.kind != FeatureKind::kNumeric) {
      plan.others.push_back(k);
      continue;
    }
    plan.source.push_back(e.source);
    plan.offset.push_back(e.offset);
    plan.mean.push_back(e.mean);
    plan.inverse_scale.push_back(1.0 / e.scale);
  }
  return plan;
}

// Writes store rows row_of(0), row_of(1), ... into the rows of x.
template <typename RowOf>
void EncodeBlock(const RowStore& store, const Encoding& encoding, const NumericPlan& plan,
                 const std::vector<std::vector<size_t>>& categories, RowOf row_of, RowMajor& x) {
  x.setZero();
  const size_t numeric = plan.source.size();
  for (long r = 0; r < x.rows(); ++r) {
    const double* values = store.Row(row_of(static_cast<size_t>(r)));
    double* out = x.row(r).data();
    out[0] = 1.0;
    for (size_t j = 0; j < numeric; ++j) {
      const double v = values[plan.source[j]];
      out[plan.offset[j]] = v == v ? (v - plan.mean[j]) * plan.inverse_scale[j] : 0.0;  // NaN: missing
    }
    for (size_t k : plan.others) {
      const EncodedFeature& e = encoding.features[k];
      const double v = values[e.source];
      switch (e.kind) {
        case FeatureKind::kBoolean: out[e.offset] = std::isnan(v) ? e.impute : v; break;
        case FeatureKind::kCategorical:
          out[e.offset + (std::isnan(v) ? e.width - 1 : categories[k][static_cast<size_t>(v)])] = 1.0;
          break;
        default:
          if (!std::isnan(v)) out[e.offset + static_cast<size_t>(v)] = 1.0;
      }
    }
  }
}

}  // namespace

int HessianStride(size_t rows) noexcept { return static_cast<int>(std::max<size_t>(1, rows / 250000)); }

namespace {

constexpr size_t kPassBlock = 512;

// StoredPass over the rows [begin, end), begin a multiple of kPassBlock.
NewtonAccumulator StoredRange(const RowStore& store, const StoredPassSpec& spec, const NumericPlan& plan,
                              const std::vector<std::vector<size_t>>& categories, const Eigen::VectorXd& beta,
                              size_t begin, size_t end) {
  const Encoding& encoding = *spec.encoding;
  NewtonAccumulator sums(encoding.dim, spec.with_hessian);
  const RowStore::Bytes& labels = store.Labels();
  const RowStore::Bytes& holdout = store.Holdout();
  RowMajor x(kPassBlock, static_cast<long>(encoding.dim));
  Eigen::ArrayXd logits(kPassBlock), y(kPassBlock), weights(kPassBlock);
  for (size_t first = begin; first < end; first += kPassBlock) {
    const size_t count = std::min(kPassBlock, end - first);
    if (static_cast<size_t>(x.rows()) != count) {
      x.resize(static_cast<long>(count), static_cast<long>(encoding.dim));
      logits.resize(static_cast<long>(count));
      y.resize(static_cast<long>(count));
      weights.resize(static_cast<long>(count));
    }
    EncodeBlock(
        store, encoding, plan, categories, [first](size_t r) { return first + r; }, x);
    logits.matrix().noalias() = x * beta;
    if (spec.logits != nullptr) std::copy(logits.data(), logits.data() + count, spec.logits->data() + first);
    double training = 0;
    for (size_t r = 0; r < count; ++r) {
      const bool label = labels[first + r] != 0, held_out = holdout[first + r] != 0;
      const long i = static_cast<long>(r);
      y[i] = label ? 1.0 : 0.0;
      weights[i] = held_out ? 0.0 : label ? spec.positive_weight : spec.negative_weight;
      training += held_out ? 0 : 1;
    }
    sums.AddTrainingBlock(x, y, weights, logits, training, spec.hessian_stride);
  }
  sums.Flush();
  return sums;
}

}  // namespace

NewtonAccumulator StoredPass(const RowStore& store, const StoredPassSpec& spec, const Eigen::VectorXd& beta) {
  const std::vector<std::vector<size_t>> categories = CategoryColumns(store, *spec.encoding);
  const NumericPlan plan = PlanNumeric(*spec.encoding);
  if (spec.logits != nullptr) spec.logits->resize(store.Rows());
  std::vector<NewtonAccumulator> parts(static_cast<size_t>(std::max(spec.threads, 1)));
  const int used = ForEachRange(store.Rows(), kPassBlock, spec.threads, [&](int part, size_t begin, size_t end) {
    parts[static_cast<size_t>(part)] = StoredRange(store, spec, plan, categories, beta, begin, end);
  });
  for (int p = 1; p < used; ++p) parts[0].Merge(parts[static_cast<size_t>(p)]);
  return std::move(parts[0]);
}

void EncodeStoredRows(const RowStore& store, const Encoding& encoding, const std::vector<size_t>& rows,
                      NewtonAccumulator::Block& x) {
  x.resize(static_cast<long>(rows.size()), static_cast<long>(encoding.dim));
  EncodeBlock(
      store, encoding, PlanNumeric(encoding), CategoryColumns(store, encoding), [&rows](size_t r) { return rows[r]; },
      x);
}

NewtonAccumulator StoredEvaluation(const RowStore& store, const std::vector<double>& logits, size_t dim,
                                   bool evaluate_all) {
  NewtonAccumulator sums(dim, false);
  const RowStore::Bytes& labels = store.Labels();
  const RowStore::Bytes& holdout = store.Holdout();
  for (size_t r = 0; r < store.Rows() && r < logits.size(); ++r) {
    if (holdout[r] != 0 || evaluate_all) sums.AddEvaluation(labels[r] != 0, logits[r]);
    if (holdout[r] == 0) sums.training_scores.Add(logits[r], labels[r] != 0);
  }
  return sums;
}

}  // namespace pgfraud
