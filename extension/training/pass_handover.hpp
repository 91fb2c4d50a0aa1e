// The statistics of a pass, handed from the aggregate's final function to train_fraud_model
// in the same backend (a parallel plan finalises in the leader) instead of through the pass's
// bytea result: serialising, copying and parsing the state again (sampled rows, categories,
// and rows kept in memory, hundreds of megabytes, which a bytea limits to 1 GB) cost more
// than the merge of the workers' states.
#pragma once

#include <optional>

#include "training/training_stats.hpp"

namespace pgfraud {
namespace glue {

// The payload of the bytea a final function returns when it handed its state over.
constexpr char kHandedOver = 'H';

// Called by the final function of a statistics pass: holds `stats` until taken.
void HandOverStatistics(TrainingStats&& stats);
// The statistics of the last pass of this backend that handed its state over, once.
std::optional<TrainingStats> TakeStatistics();
// Frees a state never taken (an error between the pass and its reader) at transaction end.
void RegisterHandoverCleanup();

}  // namespace glue
}  // namespace pgfraud
