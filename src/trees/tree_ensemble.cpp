// Scoring and TreeSHAP of gradient-boosted trees (see the header).
#include "trees/tree_ensemble.hpp"

#include <algorithm>
#include <cmath>

#include "common/errors.hpp"
#include "trees/xgboost_import.hpp"

namespace pgfraud {
namespace {

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidModelDocument, "invalid model document: " + message);
}

constexpr size_t kMaxNodes = 1 << 20;  // per tree
constexpr int kMaxDepth = 64;
constexpr size_t kMaxTrees = 10000;  // as many as training may boost

// An input value's way at a split: XGBoost's, value < threshold in float32, missing by default.
inline size_t Next(const Tree& t, size_t node, const float* x) {
  const float v = x[t.input[node]];
  if (std::isnan(v)) return static_cast<size_t>(t.default_left[node] ? t.left[node] : t.right[node]);
  return static_cast<size_t>(v < t.threshold[node] ? t.left[node] : t.right[node]);
}

// Fills mean (cover-weighted mean of the leaves below) bottom up; returns the depth below `node`.
int FillMeans(Tree& t, size_t node, int depth) {
  if (depth > kMaxDepth) Invalid("a tree is deeper than 64 levels");
  if (t.IsLeaf(node)) {
    t.mean[node] = t.value[node];
    return 0;
  }
  const size_t l = static_cast<size_t>(t.left[node]), r = static_cast<size_t>(t.right[node]);
  const int below = 1 + std::max(FillMeans(t, l, depth + 1), FillMeans(t, r, depth + 1));
  const double c = t.cover[node];
  t.mean[node] = c > 0 ? (t.mean[l] * t.cover[l] + t.mean[r] * t.cover[r]) / c : 0.0;
  return below;
}

// TreeSHAP's path of unique features from the root to the current node.
struct PathElement {
  int input;             // -1 for the root's placeholder
  double zero_fraction;  // the share of rows that reach here when the input is not known
  double one_fraction;   // 1 when the row itself goes this way, else 0
  double weight;         // the permutation weight
};

void ExtendPath(PathElement* path, int depth, double zero_fraction, double one_fraction, int input) {
  path[depth] = {input, zero_fraction, one_fraction, depth == 0 ? 1.0 : 0.0};
  for (int i = depth - 1; i >= 0; --i) {
    path[i + 1].weight += one_fraction * path[i].weight * (i + 1) / static_cast<double>(depth + 1);
    path[i].weight = zero_fraction * path[i].weight * (depth - i) / static_cast<double>(depth + 1);
  }
}

void UnwindPath(PathElement* path, int depth, int index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next = path[depth].weight;
  for (int i = depth - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = path[i].weight;
      path[i].weight = next * (depth + 1) / static_cast<double>((i + 1) * one);
      next = tmp - path[i].weight * zero * (depth - i) / static_cast<double>(depth + 1);
    } else {
      path[i].weight = path[i].weight * (depth + 1) / (zero * (depth - i));
    }
  }
  for (int i = index; i < depth; ++i) {
    path[i].input = path[i + 1].input;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

// The total permutation weight the path would have with element `index` unwound.
double UnwoundPathSum(const PathElement* path, int depth, int index) {
  const double one = path[index].one_fraction, zero = path[index].zero_fraction;
  double next = path[depth].weight, total = 0.0;
  for (int i = depth - 1; i >= 0; --i) {
    if (one != 0) {
      const double tmp = next * (depth + 1) / static_cast<double>((i + 1) * one);
      total += tmp;
      next = path[i].weight - tmp * zero * ((depth - i) / static_cast<double>(depth + 1));
    } else if (zero != 0) {
      total += (path[i].weight / zero) / ((depth - i) / static_cast<double>(depth + 1));
    }
  }
  return total;
}

// Algorithm 2 of Lundberg et al.: the contributions of one tree, into phi. `parent` holds the
// paths of the levels above (each level's copy after its own, as XGBoost lays them out).
void Recurse(const Tree& t, const float* x, double* phi, size_t node, int depth, PathElement* parent,
             double zero_fraction, double one_fraction, int input) {
  PathElement* path = parent + depth + 1;
  std::copy(parent, parent + depth + 1, path);
  ExtendPath(path, depth, zero_fraction, one_fraction, input);
  if (t.IsLeaf(node)) {
    for (int i = 1; i <= depth; ++i) {
      const double w = UnwoundPathSum(path, depth, i);
      phi[path[i].input] += w * (path[i].one_fraction - path[i].zero_fraction) * t.value[node];
    }
    return;
  }
  const size_t hot = Next(t, node, x);
  const size_t cold =
      hot == static_cast<size_t>(t.left[node]) ? static_cast<size_t>(t.right[node]) : static_cast<size_t>(t.left[node]);
  const double cover = t.cover[node];
  const double hot_zero = cover > 0 ? t.cover[hot] / cover : 0.0, cold_zero = cover > 0 ? t.cover[cold] / cover : 0.0;
  double incoming_zero = 1.0, incoming_one = 1.0;
  const int split = t.input[node];
  int index = 0;
  while (index <= depth && path[index].input != split) ++index;
  if (index != depth + 1) {  // split on this input before: undo that split, redo it here
    incoming_zero = path[index].zero_fraction;
    incoming_one = path[index].one_fraction;
    UnwindPath(path, depth, index);
    depth -= 1;
  }
  Recurse(t, x, phi, hot, depth + 1, path, hot_zero * incoming_zero, incoming_one, split);
  Recurse(t, x, phi, cold, depth + 1, path, cold_zero * incoming_zero, 0.0, split);
}

std::vector<double> Numbers(const nlohmann::json& tree, const char* key, size_t nodes) {
  auto it = tree.find(key);
  if (it == tree.end() || !it->is_array() || it->size() != nodes)
    Invalid(std::string("a tree's \"") + key + "\" is not an array of one number a node");
  std::vector<double> out;
  for (const auto& v : *it) {
    if (v.is_boolean()) {
      out.push_back(v.get<bool>() ? 1.0 : 0.0);
      continue;
    }
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      Invalid(std::string("a tree's \"") + key + "\" holds a value that is not a finite number");
    out.push_back(v.get<double>());
  }
  return out;
}

// Places `node` (of t) at position `at` of the complete layout `level` levels down, and its
// subtree below it; a leaf above the last level fills every position below it.
void Place(Tree& t, size_t node, size_t at, int level) {
  const size_t splits = t.splits.size();
  if (level == t.depth) {
    t.leaves[at - splits] = t.value[node];
    return;
  }
  if (t.IsLeaf(node)) {  // the split left as Complete made it (input 0) leads to the same value either way
    Place(t, node, 2 * at + 1, level + 1);
    Place(t, node, 2 * at + 2, level + 1);
    return;
  }
  t.splits[at] = {t.threshold[node], t.packed[node].input_default};
  Place(t, static_cast<size_t>(t.left[node]), 2 * at + 1, level + 1);
  Place(t, static_cast<size_t>(t.right[node]), 2 * at + 2, level + 1);
}

// The complete layout of a tree at most kCompleteDepth deep (a padded split reads input 0:
// a tree with a split has an input 0).
void Complete(Tree& t) {
  t.splits.assign((size_t{1} << t.depth) - 1, Tree::Split{0.0f, 0u});
  t.leaves.assign(size_t{1} << t.depth, 0.0f);
  Place(t, 0, 0, 0);
}

}  // namespace

void TreeEnsemble::Prepare() {
  if (trees.size() > kMaxTrees) Invalid("a document has more than 10,000 trees");
  expected_margin = base_margin;
  for (Tree& t : trees) {
    const size_t n = t.Nodes();
    if (n == 0 || n > kMaxNodes) Invalid("a tree has no node, or more than 2^20");
    // Children come after their parent: every node is reached once, and no walk loops.
    for (size_t i = 0; i < n; ++i) {
      if (t.left[i] < 0) {
        if (t.right[i] >= 0) Invalid("a tree node has a right child but no left one");
        continue;
      }
      if (t.left[i] <= static_cast<int32_t>(i) || t.right[i] <= static_cast<int32_t>(i) ||
          t.left[i] >= static_cast<int32_t>(n) || t.right[i] >= static_cast<int32_t>(n) || t.left[i] == t.right[i]) {
        Invalid("a tree's children must be later nodes of the same tree");
      }
      if (t.input[i] < 0 || static_cast<size_t>(t.input[i]) >= inputs.size())
        Invalid("a tree splits on an input the document does not list");
      if (!std::isfinite(t.threshold[i])) Invalid("a tree's split threshold is not finite");
    }
    for (size_t i = 0; i < n; ++i) {
      if (t.cover[i] < 0) Invalid("a tree's cover is negative");
    }
    t.mean.assign(n, 0.0);
    t.depth = FillMeans(t, 0, 0);
    expected_margin += t.mean[0];
    t.packed.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const bool leaf = t.IsLeaf(i);
      t.packed[i] = {leaf ? t.value[i] : t.threshold[i],
                     static_cast<uint32_t>(leaf ? 0 : t.input[i]) | (t.default_left[i] ? 0x80000000u : 0u), t.left[i],
                     t.right[i]};
    }
    if (t.depth <= Tree::kCompleteDepth) {
      Complete(t);
      std::vector<Tree::Packed>().swap(t.packed);  // walked on the complete layout only
    }
  }
}

namespace {

// The value of the leaf a row ends in, on the packed nodes (one
// 16-byte read a level). The walk branches on the row's values: on transactions most rows
// take the same side of most splits, and a predicted branch lets the processor load the next
// node before the comparison is done. (A branch-free walk, tried, was 2x faster on uniformly
// random features and 2.3x slower on generated transactions.)
inline float LeafValue(const Tree::Packed* p, const float* x) {
  int32_t n = 0;
  while (p[n].left >= 0) {
    const Tree::Packed& d = p[n];
    const float v = x[d.input_default & 0x7fffffffu];
    if (std::isnan(v)) {
      n = (d.input_default >> 31) != 0 ? d.left : d.right;
    } else {
      n = v < d.threshold_or_value ? d.left : d.right;
    }
  }
  return p[n].threshold_or_value;
}

// The value of the leaf a row ends in, on a tree's complete layout. The next position is
// 2n+1 or 2n+2 by the comparison alone: when the branch is predicted (on transactions most
// rows take the same side of most splits) the processor goes on to the next level's and the
// next tree's nodes before this node has loaded, so the loads of a tree's levels and of
// several trees overlap; on the packed nodes each level waits for the child index to load.
// The branch is kept a branch (the empty asm stops the compiler from making it a
// conditional move, which would make every level wait again).
inline float CompleteLeaf(const Tree& t, const float* x) {
  const Tree::Split* s = t.splits.data();
  size_t n = 0;
  for (int level = 0; level < t.depth; ++level) {
    const Tree::Split d = s[n];
    const float v = x[d.input_default & 0x7fffffffu];
    const bool left = std::isnan(v) ? (d.input_default >> 31) != 0 : v < d.threshold;
    if (left) {
      n = 2 * n + 1;
    } else {
      n = 2 * n + 2;
      __asm__ volatile("");
    }
  }
  return t.leaves[n - t.splits.size()];
}

inline float TreeLeaf(const Tree& t, const float* x) {
  return t.leaves.empty() ? LeafValue(t.packed.data(), x) : CompleteLeaf(t, x);
}

// Where a walk of the tree starts: the first node of the layout it is walked on.
inline const void* Root(const Tree& t) {
  return t.leaves.empty() ? static_cast<const void*>(t.packed.data()) : static_cast<const void*>(t.splits.data());
}

}  // namespace

void TreeEnsemble::Margins(const float* x, size_t rows, float* out) const {
  constexpr size_t kBlock = 64;
  const size_t width = inputs.size();
  for (size_t begin = 0; begin < rows; begin += kBlock) {
    const size_t end = std::min(rows, begin + kBlock);
    for (size_t r = begin; r < end; ++r) out[r] = base_margin;
    for (const Tree& t : trees) {  // the same order of float32 additions as Margin
      if (t.leaves.empty()) {
        for (size_t r = begin; r < end; ++r) out[r] += LeafValue(t.packed.data(), x + r * width);
      } else {
        for (size_t r = begin; r < end; ++r) out[r] += CompleteLeaf(t, x + r * width);
      }
    }
  }
}

float TreeEnsemble::Margin(const float* x) const {
  float margin = base_margin;
  const size_t n = trees.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + 4 < n) __builtin_prefetch(Root(trees[i + 4]));
    margin += TreeLeaf(trees[i], x);
  }
  return margin;
}

void TreeEnsemble::Shap(const float* x, double* phi) const {
  std::fill(phi, phi + inputs.size(), 0.0);
  std::vector<PathElement> paths;
  for (const Tree& t : trees) {
    const size_t levels = static_cast<size_t>(t.depth) + 2;
    paths.assign(levels * (levels + 1) / 2 + levels, PathElement{-1, 0, 0, 0});
    Recurse(t, x, phi, 0, 0, paths.data(), 1.0, 1.0, -1);
  }
}

nlohmann::json TreeEnsemble::ToJson() const {
  nlohmann::json out = {{"base_margin", base_margin}};
  nlohmann::json ins = nlohmann::json::array();
  for (const TreeInput& in : inputs) {
    nlohmann::json one = {{"feature", static_cast<int64_t>(in.feature)}};
    if (in.equals) one["equals"] = *in.equals;
    if (in.missing_is_missing) one["if_missing"] = "missing";
    ins.push_back(one);
  }
  out["inputs"] = ins;
  nlohmann::json list = nlohmann::json::array();
  for (const Tree& t : trees) {
    std::vector<int> dl(t.default_left.begin(), t.default_left.end());
    list.push_back({{"left", t.left},
                    {"right", t.right},
                    {"input", t.input},
                    {"threshold", t.threshold},
                    {"default_left", dl},
                    {"value", t.value},
                    {"cover", t.cover}});
  }
  out["trees"] = list;
  return out;
}

namespace {

// One entry of "inputs": the feature it reads (by name or index) and, for a one-hot input, the
// category it tests and what a missing value gives.
TreeInput ReadInput(const nlohmann::json& in, const std::vector<std::string>& feature_names) {
  if (!in.is_object()) Invalid("a tree input is not an object");
  TreeInput t;
  auto f = in.find("feature");
  if (f != in.end() && f->is_number_integer() && f->get<int64_t>() >= 0 &&
      static_cast<size_t>(f->get<int64_t>()) < feature_names.size()) {
    t.feature = static_cast<size_t>(f->get<int64_t>());
  } else if (f != in.end() && f->is_string()) {
    auto at = std::find(feature_names.begin(), feature_names.end(), f->get<std::string>());
    if (at == feature_names.end()) Invalid("a tree input names a feature the document does not list");
    t.feature = static_cast<size_t>(at - feature_names.begin());
  } else {
    Invalid("a tree input's \"feature\" is not a feature of the document (its name or index)");
  }
  if (auto eq = in.find("equals"); eq != in.end()) {
    if (!eq->is_string()) Invalid("a tree input's \"equals\" is not a string");
    t.equals = eq->get<std::string>();
  }
  if (auto im = in.find("if_missing"); im != in.end()) {
    if (!t.equals || !im->is_string() || (*im != "zero" && *im != "missing")) {
      Invalid("a tree input's \"if_missing\" is \"zero\" or \"missing\", on a one-hot (\"equals\") input");
    }
    t.missing_is_missing = *im == "missing";
  }
  return t;
}

// One entry of "trees": its node arrays, each one number a node (Prepare checks the shape).
Tree ReadTree(const nlohmann::json& tree) {
  if (!tree.is_object() || !tree.contains("left") || !tree["left"].is_array()) Invalid("a tree has no \"left\" array");
  const size_t n = tree["left"].size();
  Tree t;
  auto ints = [&](const char* key) {
    std::vector<int32_t> out;
    for (double v : Numbers(tree, key, n)) {
      if (v != std::floor(v) || v < -1 || v > static_cast<double>(kMaxNodes))
        Invalid(std::string("a tree's \"") + key + "\" holds a value that is not a node index");
      out.push_back(static_cast<int32_t>(v));
    }
    return out;
  };
  t.left = ints("left");
  t.right = ints("right");
  t.input = ints("input");
  for (double v : Numbers(tree, "threshold", n)) t.threshold.push_back(static_cast<float>(v));
  for (double v : Numbers(tree, "default_left", n)) t.default_left.push_back(v != 0 ? 1 : 0);
  for (double v : Numbers(tree, "value", n)) t.value.push_back(static_cast<float>(v));
  t.cover = Numbers(tree, "cover", n);
  return t;
}

}  // namespace

TreeEnsemble TreeEnsemble::FromJson(const nlohmann::json& j, const std::vector<std::string>& feature_names) {
  if (!j.is_object()) Invalid("\"trees\" is not an object");
  TreeEnsemble e;
  auto base = j.find("base_margin");
  if (base == j.end() || !base->is_number() || !std::isfinite(base->get<double>()))
    Invalid("\"trees\" has no finite \"base_margin\"");
  e.base_margin = static_cast<float>(base->get<double>());
  auto ins = j.find("inputs");
  if (ins == j.end() || !ins->is_array() || ins->empty()) Invalid("\"trees\" has no \"inputs\" array");
  for (const auto& in : *ins) e.inputs.push_back(ReadInput(in, feature_names));
  auto list = j.find("trees");
  if (list == j.end() || !list->is_array()) Invalid("\"trees\" has no \"trees\" array");
  for (const auto& tree : *list) e.trees.push_back(ReadTree(tree));
  if (e.trees.empty()) Invalid("\"trees\" holds no tree");
  e.Prepare();
  return e;
}

void TreeEnsemble::Inputs(const std::vector<Feature>& features, const FeatureValue* values, float* x) const {
  std::string buffer;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TreeInput& in = inputs[i];
    const Feature& f = features[in.feature];
    const FeatureValue& v = values[in.feature];
    x[i] = NAN;
    if (in.equals) {
      std::string_view category;
      if (ReadCategory(f, v, &buffer, &category)) {
        x[i] = category == *in.equals ? 1.0f : 0.0f;
      } else if (!in.missing_is_missing) {
        x[i] = 0.0f;  // as get_dummies and OneHotEncoder encode a missing value
      }
    } else if (f.kind == FeatureKind::kBoolean) {
      bool b;
      if (ReadBool(f, v, &b)) x[i] = b ? 1.0f : 0.0f;
    } else if (f.kind == FeatureKind::kHourOfDay || f.kind == FeatureKind::kDayOfWeek) {
      const int slot = ReadSlot(f, v);
      if (slot >= 0) x[i] = static_cast<float>(slot);
    } else {
      double d;
      if (ReadNumber(f, v, &d)) x[i] = static_cast<float>(d);
    }
  }
}

namespace {

// A row's inputs, in a buffer of this thread reused from row to row.
const float* RowInputs(const TreeEnsemble& e, const Model& m, const FeatureValue* values) {
  thread_local std::vector<float> x;
  x.resize(e.inputs.size());
  e.Inputs(m.features, values, x.data());
  return x.data();
}

}  // namespace

double TreeEnsemble::Logit(const Model& model, const FeatureValue* values) const {
  return Margin(RowInputs(*this, model, values));
}

void TreeEnsemble::Contributions(const Model& model, const FeatureValue* values, double* out) const {
  std::vector<double> phi(inputs.size());
  Shap(RowInputs(*this, model, values), phi.data());
  for (size_t i = 0; i < phi.size(); ++i) out[inputs[i].feature] += phi[i];
}

namespace {

// The trees of a gradient_boosting document, checked against its features.
std::shared_ptr<const Algorithm> ReadTrees(const nlohmann::json& doc, const Model& m) {
  auto trees = doc.find("trees");
  if (trees == doc.end()) Invalid("a gradient_boosting document has no \"trees\"");
  std::vector<std::string> names;
  for (const Feature& f : m.features) names.push_back(f.name);
  auto ensemble = std::make_shared<TreeEnsemble>(TreeEnsemble::FromJson(*trees, names));
  for (const TreeInput& in : ensemble->inputs) {
    const Feature& f = m.features[in.feature];
    if ((f.kind == FeatureKind::kCategorical) != in.equals.has_value()) {
      Invalid("tree inputs of feature \"" + f.name +
              "\": a categorical feature is read by one-hot inputs (\"equals\"), others directly");
    }
  }
  return ensemble;
}

// Documents of "algorithm": "gradient_boosting", and XGBoost's own JSON converted to them.
const AlgorithmRegistration kTrees({"gradient_boosting", ReadTrees, XGBoostToDocument});

}  // namespace

}  // namespace pgfraud
