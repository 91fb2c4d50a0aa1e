// Standardised numbers, raw booleans, one-hot categories with an "other" column, one-hot
// hours and weekdays: the columns a scikit-learn StandardScaler + OneHotEncoder would give.
#include "linear/encoding.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/errors.hpp"
#include "common/value_parsing.hpp"

namespace pgfraud {
namespace {

// Whether a category's text reads as a number the way numeric features read text (ParseNumber).
bool ReadsAsNumber(const std::string& text) {
  try {
    (void)ParseNumber(text, std::string());
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Numbers stored as text: at least 10 distinct values, each a number. They are one-hot
// encoded by value as any text is; a hint says how to use them as numbers instead.
void HintNumbersAsText(const std::string& name, const std::vector<std::pair<std::string, double>>& top,
                       std::vector<std::string>* notices) {
  if (top.size() < 10) return;
  for (const auto& entry : top) {
    if (!ReadsAsNumber(entry.first)) return;
  }
  notices->push_back(
      "column \"" + name + "\" is text holding numbers (its " + std::to_string(top.size()) +
      " most frequent values all read as numbers): it is one-hot encoded by value, not used as a number; "
      "to use it as a number, cast it (ALTER TABLE ... ALTER COLUMN ... TYPE numeric USING ...::numeric) "
      "or train from a view that casts it");
}

}  // namespace

void Encoding::Encode(const Model& reading, const FeatureValue* values, double* x) const {
  std::fill(x, x + dim, 0.0);
  x[0] = 1.0;
  std::string buffer;
  for (const EncodedFeature& e : features) {
    const Feature& f = reading.features[e.source];
    const FeatureValue& v = values[e.source];
    switch (e.kind) {
      case FeatureKind::kNumeric: {
        double number;
        if (ReadNumber(f, v, &number)) x[e.offset] = (number - e.mean) / e.scale;
        break;  // missing: the mean, which standardises to 0
      }
      case FeatureKind::kBoolean: {
        bool b;
        x[e.offset] = ReadBool(f, v, &b) ? (b ? 1.0 : 0.0) : e.impute;
        break;
      }
      case FeatureKind::kCategorical: {
        std::string_view category;
        size_t column = e.width - 1;  // "other": rare, unseen and missing values
        if (ReadCategory(f, v, &buffer, &category)) {
          auto it = std::lower_bound(e.categories.begin(), e.categories.end(), category,
                                     [](const std::string& a, std::string_view b) { return a < b; });
          if (it != e.categories.end() && *it == category) column = static_cast<size_t>(it - e.categories.begin());
        }
        x[e.offset + column] = 1.0;
        break;
      }
      default: {
        int slot = ReadSlot(f, v);
        if (slot >= 0) x[e.offset + static_cast<size_t>(slot)] = 1.0;
      }
    }
  }
}

Model Encoding::ToModel(const Model& reading, const double* beta) const {
  Model m;
  m.intercept = beta[0];
  for (const EncodedFeature& e : features) {
    Feature f;
    f.name = reading.features[e.source].name;
    f.kind = e.kind;
    f.log1p = reading.features[e.source].log1p;
    switch (e.kind) {
      case FeatureKind::kNumeric:
        f.mean = e.mean;
        f.scale = e.scale;
        f.weight = beta[e.offset];
        break;
      case FeatureKind::kBoolean:
        f.weight = beta[e.offset];
        f.impute = e.impute;
        break;
      case FeatureKind::kCategorical:
        for (size_t i = 0; i < e.categories.size(); ++i) f.weights.emplace_back(e.categories[i], beta[e.offset + i]);
        f.default_weight = beta[e.offset + e.width - 1];
        break;
      default:
        for (size_t i = 0; i < e.width; ++i) f.weights.emplace_back(std::to_string(i), beta[e.offset + i]);
        std::sort(f.weights.begin(), f.weights.end());
        f.default_weight = 0.0;  // a missing time encodes as all zeros
    }
    f.Prepare();
    m.features.push_back(std::move(f));
  }
  return m;
}

nlohmann::json Encoding::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const EncodedFeature& e : features) {
    out.push_back({{"source", e.source},
                   {"kind", FeatureKindName(e.kind)},
                   {"offset", e.offset},
                   {"width", e.width},
                   {"mean", e.mean},
                   {"scale", e.scale},
                   {"impute", e.impute},
                   {"categories", e.categories}});
  }
  return {{"dim", dim}, {"features", out}};
}

Encoding Encoding::FromJson(const nlohmann::json& j) {
  Encoding enc;
  enc.dim = j.at("dim").get<size_t>();
  for (const auto& f : j.at("features")) {
    EncodedFeature e;
    e.source = f.at("source").get<size_t>();
    const std::string kind = f.at("kind").get<std::string>();
    for (FeatureKind k : {FeatureKind::kNumeric, FeatureKind::kCategorical, FeatureKind::kBoolean,
                          FeatureKind::kHourOfDay, FeatureKind::kDayOfWeek}) {
      if (kind == FeatureKindName(k)) e.kind = k;
    }
    e.offset = f.at("offset").get<size_t>();
    e.width = f.at("width").get<size_t>();
    e.mean = f.at("mean").get<double>();
    e.scale = f.at("scale").get<double>();
    e.impute = f.at("impute").get<double>();
    e.categories = f.at("categories").get<std::vector<std::string>>();
    if (e.offset + e.width > enc.dim) throw Error(ErrorCode::kInternal, "encoding does not fit its dimension");
    enc.features.push_back(std::move(e));
  }
  return enc;
}

Encoding BuildEncoding(const Model& reading, const TrainingStats& stats, size_t max_categories,
                       std::vector<std::string>* notices) {
  Encoding enc;
  const size_t n = reading.features.size() - 1;  // the label is last
  for (size_t i = 0; i < n; ++i) {
    const Feature& f = reading.features[i];
    EncodedFeature e;
    e.source = i;
    e.kind = f.kind;
    switch (f.kind) {
      case FeatureKind::kNumeric: {
        const RunningMoments& m = stats.moments[i];
        e.mean = m.count > 0 ? m.mean : 0.0;
        double sd = m.StdDev();
        e.scale = sd > 1e-12 * std::max(1.0, std::fabs(e.mean)) ? sd : 1.0;
        if (e.scale == 1.0 && sd <= 1e-12 * std::max(1.0, std::fabs(e.mean))) {
          notices->push_back("column \"" + f.name + "\" is constant in the training rows; its weight will be 0");
        }
        break;
      }
      case FeatureKind::kBoolean: e.impute = stats.moments[i].count > 0 ? stats.moments[i].mean : 0.0; break;
      case FeatureKind::kCategorical: {
        const CategoryCounter& counter = stats.categories[i];
        std::vector<std::pair<std::string, double>> top = counter.Top(max_categories + 1);
        if (stats.training_rows > 1 && (top.empty() || top.front().second <= 1.0)) {
          notices->push_back("column \"" + f.name +
                             "\" has a different value in every row (an identifier?) and was left out; "
                             "name it in \"exclude\" to silence this");
          continue;
        }
        HintNumbersAsText(f.name, top, notices);
        if (top.size() > max_categories || counter.Pruned()) {
          if (top.size() > max_categories) top.resize(max_categories);
          notices->push_back("column \"" + f.name + "\" has more than " + std::to_string(max_categories) +
                             " values; the rarer ones share one weight (option max_categories)");
        }
        for (const auto& entry : top) e.categories.push_back(entry.first);
        std::sort(e.categories.begin(), e.categories.end());
        e.width = e.categories.size() + 1;
        break;
      }
      case FeatureKind::kHourOfDay: e.width = 24; break;
      case FeatureKind::kDayOfWeek: e.width = 7; break;
    }
    e.offset = enc.dim;
    enc.dim += e.width;
    enc.features.push_back(std::move(e));
  }
  return enc;
}

}  // namespace pgfraud
