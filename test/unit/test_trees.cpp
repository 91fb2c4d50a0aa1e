// Gradient-boosted trees: scoring (float32 splits, default directions, float32 sums), the
// document, and TreeSHAP against Shapley values computed by brute force over every subset.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "common/errors.hpp"
#include "model/model_document.hpp"
#include "trees/tree_ensemble.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

// A depth-3 tree over 3 inputs (each split once or twice), and a stump.
json Document() {
  return json::parse(R"({
    "format": "pg_fraud.model/1", "algorithm": "gradient_boosting", "threshold": 0.5,
    "features": [{"name": "amount", "kind": "numeric"}, {"name": "online", "kind": "boolean"},
                 {"name": "channel", "kind": "categorical"}],
    "trees": {"base_margin": -1.5,
      "inputs": [{"feature": "amount"}, {"feature": 1}, {"feature": "channel", "equals": "web"}],
      "trees": [
        {"left": [1, 3, 5, -1, 7, -1, -1, -1, -1], "right": [2, 4, 6, -1, 8, -1, -1, -1, -1],
         "input": [0, 1, 2, 0, 0, 0, 0, 0, 0], "threshold": [100.5, 0.5, 0.5, 0, 50.25, 0, 0, 0, 0],
         "default_left": [1, 0, 1, 0, 1, 0, 0, 0, 0],
         "value": [0, 0, 0, -0.4, 0, 0.3, 0.9, -0.1, 0.2], "cover": [100, 60, 40, 35, 25, 10, 30, 15, 10]},
        {"left": [1, -1, -1], "right": [2, -1, -1], "input": [2, 0, 0], "threshold": [0.5, 0, 0],
         "default_left": [0, 0, 0], "value": [0, -0.25, 0.5], "cover": [100, 70, 30]}]}})");
}

// The value of one tree when only the inputs in `known` are known: the others are averaged
// over the children by cover (the path-dependent expectation TreeSHAP explains).
double Expectation(const Tree& t, size_t node, const float* x, unsigned known) {
  if (t.IsLeaf(node)) return t.value[node];
  const size_t l = static_cast<size_t>(t.left[node]), r = static_cast<size_t>(t.right[node]);
  const int in = t.input[node];
  if (known & (1u << in)) {
    const float v = x[in];
    const size_t next = std::isnan(v) ? (t.default_left[node] ? l : r) : v < t.threshold[node] ? l : r;
    return Expectation(t, next, x, known);
  }
  return (t.cover[l] * Expectation(t, l, x, known) + t.cover[r] * Expectation(t, r, x, known)) / t.cover[node];
}

// Exact Shapley values of the ensemble's margin by enumerating every subset of inputs.
std::vector<double> BruteForceShapley(const TreeEnsemble& e, const float* x) {
  const size_t m = e.inputs.size();
  auto value = [&](unsigned known) {
    double v = e.base_margin;
    for (const Tree& t : e.trees) v += Expectation(t, 0, x, known);
    return v;
  };
  std::vector<double> phi(m, 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (unsigned s = 0; s < (1u << m); ++s) {
      if (s & (1u << i)) continue;
      const int size = __builtin_popcount(s);
      const double weight = std::tgamma(size + 1) * std::tgamma(static_cast<double>(m) - size) / std::tgamma(m + 1.0);
      phi[i] += weight * (value(s | (1u << i)) - value(s));
    }
  }
  return phi;
}

TEST(Trees, ScoresLikeXGBoost) {
  const Model m = ModelFromJson(Document());
  ASSERT_TRUE(TreesOf(m));
  FeatureValue v[3];
  v[0].SetNumber(120);
  v[1].SetBool(true);
  v[2].SetText("web");
  // Tree 1: amount 120 >= 100.5 -> node 2; web -> 1 >= 0.5 -> node 6 (0.9). Tree 2: web -> 0.5.
  EXPECT_FLOAT_EQ(m.Logit(v), -1.5f + 0.9f + 0.5f);
  // Missing amount goes left by default (node 1), online true -> node 4, amount missing -> left (7: -0.1).
  v[0].SetMissing();
  EXPECT_FLOAT_EQ(m.Logit(v), -1.5f + -0.1f + 0.5f);
  // A value equal to the threshold in float32 goes right, as XGBoost's value < threshold.
  v[0].SetNumber(100.5);
  v[2].SetText("pos");
  EXPECT_FLOAT_EQ(m.Logit(v), -1.5f + 0.3f + -0.25f);
  // 100.49999999 rounds to 100.5 in float32: right too, where a double comparison goes left.
  v[0].SetNumber(100.49999999);
  EXPECT_FLOAT_EQ(m.Logit(v), -1.5f + 0.3f + -0.25f);
  // A missing category is 0 in its one-hot input (as get_dummies encodes it): like "pos".
  v[2].SetMissing();
  EXPECT_FLOAT_EQ(m.Logit(v), -1.5f + 0.3f + -0.25f);
  // With "if_missing": "missing" it takes the default directions (node 2 left: 0.3; stump right: 0.5).
  json d = Document();
  d["trees"]["inputs"][2]["if_missing"] = "missing";
  const Model missing = ModelFromJson(d);
  EXPECT_FLOAT_EQ(missing.Logit(v), -1.5f + 0.3f + 0.5f);
}

// A random tree of uneven shape up to `max_depth` levels deep (children after their parent).
void GrowRandom(Tree& t, std::mt19937& rng, size_t inputs, int depth, int max_depth) {
  const size_t node = t.left.size();
  const bool leaf = depth == max_depth || (depth > 0 && rng() % 4 == 0);
  t.left.push_back(-1);
  t.right.push_back(-1);
  t.input.push_back(static_cast<int32_t>(rng() % inputs));
  t.threshold.push_back(std::uniform_real_distribution<float>(-1, 1)(rng));
  t.default_left.push_back(rng() % 2);
  t.value.push_back(leaf ? std::uniform_real_distribution<float>(-1, 1)(rng) : 0.0f);
  t.cover.push_back(1.0);
  if (leaf) return;
  t.left[node] = static_cast<int32_t>(t.left.size());
  GrowRandom(t, rng, inputs, depth + 1, max_depth);
  t.right[node] = static_cast<int32_t>(t.left.size());
  GrowRandom(t, rng, inputs, depth + 1, max_depth);
}

// The margin by following each tree's own child indices, in the same float32 order.
float ReferenceMargin(const TreeEnsemble& e, const float* x) {
  float margin = e.base_margin;
  for (const Tree& t : e.trees) {
    size_t n = 0;
    while (!t.IsLeaf(n)) {
      const float v = x[t.input[n]];
      const bool left = std::isnan(v) ? t.default_left[n] != 0 : v < t.threshold[n];
      n = static_cast<size_t>(left ? t.left[n] : t.right[n]);
    }
    margin += t.value[n];
  }
  return margin;
}

// Trees up to kCompleteDepth deep are walked on their padded complete layout, deeper ones on
// their child indices; both give the leaf the tree's own indices lead to, missing values and
// infinities included, one row at a time and in blocks.
TEST(Trees, BothLayoutsReachTheSameLeaves) {
  std::mt19937 rng(11);
  TreeEnsemble e;
  e.base_margin = 0.25f;
  for (int i = 0; i < 5; ++i) e.inputs.push_back(TreeInput{0, std::nullopt, false});
  for (int i = 0; i < 60; ++i) {
    Tree t;
    GrowRandom(t, rng, e.inputs.size(), 0, i % 12);  // 0 (a single leaf) to 11 levels
    e.trees.push_back(std::move(t));
  }
  e.Prepare();
  int complete = 0;
  for (const Tree& t : e.trees) {
    EXPECT_EQ(!t.leaves.empty(), t.depth <= Tree::kCompleteDepth);
    complete += !t.leaves.empty();
  }
  EXPECT_GT(complete, 0);
  EXPECT_LT(complete, 60);
  const size_t rows = 500, w = e.inputs.size();
  std::vector<float> x(rows * w);
  for (float& v : x) {
    const unsigned pick = rng() % 20;
    v = pick == 0   ? NAN
        : pick == 1 ? INFINITY
        : pick == 2 ? -INFINITY
                    : std::uniform_real_distribution<float>(-1.2f, 1.2f)(rng);
  }
  std::vector<float> block(rows);
  e.Margins(x.data(), rows, block.data());
  for (size_t r = 0; r < rows; ++r) {
    const float expected = ReferenceMargin(e, &x[r * w]);
    EXPECT_EQ(e.Margin(&x[r * w]), expected) << "row " << r;
    EXPECT_EQ(block[r], expected) << "row " << r;
  }
}

TEST(Trees, ShapEqualsBruteForceShapleyAndAddsUpToTheMargin) {
  const Model m = ModelFromJson(Document());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> amount(0, 200);
  for (int trial = 0; trial < 200; ++trial) {
    float x[3] = {static_cast<float>(amount(rng)), static_cast<float>(rng() % 2), static_cast<float>(rng() % 2)};
    if (trial % 5 == 0) x[0] = NAN;
    if (trial % 7 == 0) x[1] = NAN;
    double phi[3];
    TreesOf(m)->Shap(x, phi);
    const std::vector<double> exact = BruteForceShapley(*TreesOf(m), x);
    double sum = TreesOf(m)->expected_margin;
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(phi[i], exact[i], 1e-12) << "trial " << trial << " input " << i;
      sum += phi[i];
    }
    EXPECT_NEAR(sum, TreesOf(m)->Margin(x), 1e-6);
  }
}

TEST(Trees, ContributionsPerFeatureAndTheBaseValue) {
  const Model m = ModelFromJson(Document());
  FeatureValue v[3];
  v[0].SetNumber(20);
  v[1].SetBool(false);
  v[2].SetText("web");
  const std::vector<double> c = m.Contributions(v);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_NEAR(m.intercept + c[0] + c[1] + c[2], m.Logit(v), 1e-6);  // intercept: the expected margin
}

TEST(Trees, DocumentRoundTrip) {
  const Model m = ModelFromJson(Document());
  const Model back = ModelFromJson(ModelToJson(m));
  FeatureValue v[3];
  v[0].SetNumber(75);
  v[1].SetMissing();
  v[2].SetText("web");
  EXPECT_EQ(m.Logit(v), back.Logit(v));
  EXPECT_EQ(ModelToJson(back).dump(), ModelToJson(m).dump());
}

TEST(Trees, BadDocumentsAreRefused) {
  auto refused = [](const std::function<void(json&)>& edit) {
    json d = Document();
    edit(d);
    try {
      ModelFromJson(d);
    } catch (const Error& e) {
      return e.code() == ErrorCode::kInvalidModelDocument;
    }
    return false;
  };
  EXPECT_TRUE(refused([](json& d) { d["trees"]["trees"][0]["left"][0] = 0; }));     // a loop
  EXPECT_TRUE(refused([](json& d) { d["trees"]["trees"][0]["left"][0] = 40; }));    // out of range
  EXPECT_TRUE(refused([](json& d) { d["trees"]["trees"][0]["input"][0] = 9; }));    // no such input
  EXPECT_TRUE(refused([](json& d) { d["trees"]["trees"][0]["cover"].erase(0); }));  // short array
  EXPECT_TRUE(refused([](json& d) { d["trees"]["inputs"][2].erase("equals"); }));   // categorical read as number
  EXPECT_TRUE(refused([](json& d) { d["trees"]["inputs"][0]["equals"] = "x"; }));   // number read one-hot
  EXPECT_TRUE(refused([](json& d) { d["trees"]["inputs"][0]["feature"] = "nope"; }));
  EXPECT_TRUE(refused([](json& d) { d.erase("trees"); }));
  EXPECT_TRUE(refused([](json& d) { d["trees"]["trees"] = json::array(); }));
  EXPECT_TRUE(refused([](json& d) { d["features"][0]["kind"] = "weekday"; }));  // no such kind
  EXPECT_TRUE(refused([](json& d) {                                             // 100,000 trees (the limit is 10,000)
    const json stump = d["trees"]["trees"][1];
    d["trees"]["trees"] = json::array();
    for (int i = 0; i < 100000; ++i) d["trees"]["trees"].push_back(stump);
  }));
  // Hours and weekdays are read by the trees as their numbers (trained trees use them).
  EXPECT_FALSE(refused([](json& d) { d["features"][0]["kind"] = "hour_of_day"; }));
}

}  // namespace
}  // namespace pgfraud
