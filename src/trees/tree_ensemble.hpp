// Gradient-boosted trees as pg_fraud scores them without XGBoost: flat arrays per tree,
// compared in float32 as XGBoost compares, missing values sent the tree's default way, the
// margin summed in float32 as XGBoost's CPU predictor sums it; and exact path-dependent
// TreeSHAP explanations (Lundberg et al., "Consistent individualized feature attribution for
// tree ensembles", Algorithm 2), as XGBoost's pred_contribs gives them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.hpp"

namespace pgfraud {

// One tree in flat arrays indexed by node (node 0 the root). A leaf has left == -1.
struct Tree {
  std::vector<int32_t> left, right;
  std::vector<int32_t> input;         // split: the input it reads (index into TreeEnsemble::inputs)
  std::vector<float> threshold;       // split: go left when value < threshold
  std::vector<uint8_t> default_left;  // split: where a missing value goes
  std::vector<float> value;           // leaf: its value (the margin it adds)
  std::vector<double> cover;          // every node: the training rows' hessian sum (TreeSHAP)
  std::vector<double> mean;           // every node: the cover-weighted mean of its leaves (derived)
  int depth = 0;                      // derived
  // Derived: each node in 16 bytes, read once per level when scoring: a split's threshold, or
  // a leaf's value; the input it reads (the top bit: missing values go left); the children
  // (left -1 at a leaf). Only for a tree deeper than kCompleteDepth.
  struct Packed {
    float threshold_or_value;
    uint32_t input_default;
    int32_t left, right;
  };
  std::vector<Packed> packed;
  // Derived, for a tree at most kCompleteDepth deep: the tree padded to a complete one of
  // `depth` levels of splits, node i's children at 2i+1 and 2i+2, its leaves after them in
  // `leaves` (a leaf above the last level becomes splits whose every leaf below holds its
  // value). A walk then finds the next node from the comparison alone, without waiting for a
  // node's child index to load: see CompleteLeaf in tree_ensemble.cpp. Empty for deeper trees.
  struct Split {
    float threshold;
    uint32_t input_default;  // as in Packed
  };
  static constexpr int kCompleteDepth = 8;
  std::vector<Split> splits;  // 2^depth - 1
  std::vector<float> leaves;  // 2^depth

  bool IsLeaf(size_t node) const { return left[node] < 0; }
  size_t Nodes() const { return left.size(); }
};

// What one input of the trees is made of: a model feature's number (numeric, history), its
// boolean as 0/1, or, for a categorical feature, 1 when its value equals `equals` (else 0).
struct TreeInput {
  size_t feature = 0;                 // index into Model::features
  std::optional<std::string> equals;  // categorical: the one-hot category
  // categorical: a missing value gives 0, as pandas get_dummies and scikit-learn's
  // OneHotEncoder encode it (document "if_missing": "zero", the default), or a missing input
  // that takes each split's default direction ("if_missing": "missing").
  bool missing_is_missing = false;
};

// The ensemble of a "gradient_boosting" document: the Algorithm of its Model.
struct TreeEnsemble : Algorithm {
  float base_margin = 0.0f;  // the margin every row starts from (logit of XGBoost's base_score)
  std::vector<TreeInput> inputs;
  std::vector<Tree> trees;
  double expected_margin = 0.0;  // derived: the base margin plus each tree's mean (TreeSHAP's bias)

  // Checks the trees' shape (throws Error kInvalidModelDocument) and computes the derived fields.
  void Prepare();
  // The inputs for one row (x: one float per input, NaN for missing) of values aligned with
  // `features`: a number, a boolean as 0/1, an hour or weekday, a one-hot category as 1 or 0;
  // converted to float32 as XGBoost reads its inputs. Training feeds XGBoost these inputs.
  void Inputs(const std::vector<Feature>& features, const FeatureValue* values, float* x) const;
  // Algorithm: the margin of the row's inputs; TreeSHAP per input summed per feature (a
  // categorical's one-hot inputs); the expected margin; the document's "trees".
  double Logit(const Model& model, const FeatureValue* values) const override;
  void Contributions(const Model& model, const FeatureValue* values, double* out) const override;
  double BaseLogit() const override { return expected_margin; }
  const char* DocumentKey() const override { return "trees"; }
  // The margin (log-odds) of a row of inputs (NaN: missing), summed in float32.
  float Margin(const float* x) const;
  // The margins of `rows` rows of inputs (row-major, inputs.size() a row), each equal to
  // Margin of its row: tree by tree over blocks of rows, so that a tree's nodes stay in cache.
  void Margins(const float* x, size_t rows, float* out) const;
  // Each input's TreeSHAP value for a row (phi[0 .. inputs)); they add up, with
  // expected_margin, to the margin.
  void Shap(const float* x, double* phi) const;

  nlohmann::json ToJson() const override;
  static TreeEnsemble FromJson(const nlohmann::json& j, const std::vector<std::string>& feature_names);
};

// The trees of a gradient-boosting model; nullptr for another algorithm.
inline const TreeEnsemble* TreesOf(const Model& m) { return dynamic_cast<const TreeEnsemble*>(m.scorer.get()); }

}  // namespace pgfraud
