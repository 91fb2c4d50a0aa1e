// Drift references: how each feature and the score were distributed in training, and the
// population stability index (PSI) of new data against them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "linear/encoding.hpp"
#include "evaluation/metrics.hpp"
#include "model/model.hpp"
#include "training/training_stats.hpp"

namespace pgfraud {

// Stores a "reference" object in each feature's extra keys: numbers get decile edges (from
// the bottom-k sample) and bucket proportions; booleans, categories and time slots get
// proportions; every reference has a last bucket for missing (categories: "other").
void AttachReferences(Model& model, const Encoding& encoding, const TrainingStats& stats);

// The score reference from an evaluation histogram: decile edges in probability, proportions.
nlohmann::json ScoreReference(const ScoreHistogram& histogram);

// The number of buckets of a feature's reference, or 0 when it has none.
size_t ReferenceBuckets(const Feature& feature);

// The bucket of a value under the feature's reference (the last bucket: missing or other).
size_t ReferenceBucket(const Feature& feature, const FeatureValue& value);

// The bucket of a score under a score reference.
size_t ScoreBucket(const nlohmann::json& reference, double score);

// PSI of observed counts against expected proportions; empty buckets count as 0.0001.
double PopulationStabilityIndex(const std::vector<double>& expected, const std::vector<double>& counts);

// The conventional band of a PSI: "stable" (< 0.1), "watch" (0.1 - 0.25), "shift" (> 0.25).
const char* PsiBand(double psi);

}  // namespace pgfraud
