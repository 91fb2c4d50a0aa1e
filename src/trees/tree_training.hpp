// Training gradient-boosted trees (binary:logistic) with libxgboost: the statistics pass
// logistic regression makes (counts, categories, the holdout), then the passes XGBoost asks
// for, each row's inputs computed as the model will score them (TreeEnsemble::Inputs), then one
// evaluation pass scoring every row with pg_fraud's own evaluator (threshold on the training
// rows, metrics on the held-out ones, drift references).
#pragma once

#include <string>
#include <vector>

#include "linear/trainer.hpp"

namespace pgfraud {

// Trains on `columns` to predict `label` (options.boosting set); the rows are read by
// runner.Stream. Throws Error(kFeatureNotSupported) without libxgboost, Error(kDataException)
// for data that cannot give a model, Error(kExternalRoutine) for XGBoost's failures.
TrainingResult TrainTrees(const std::vector<TrainingColumn>& columns, const std::string& label,
                          const TrainingOptions& options, PassRunner& runner);

}  // namespace pgfraud
