// Training with history features: the source is read through the featurising query (one
// window function per entity), and the holdout is by time unless "holdout_by" says random.
#pragma once

#include <string>
#include <vector>

#include "evaluation/metrics.hpp"
#include "history/history_spec.hpp"
#include "model/model.hpp"
#include "pg_headers.hpp"
#include "training/training_data.hpp"
#include "training/training_options.hpp"

namespace pgfraud {
namespace glue {

// How one training run reads history.
struct HistoryPlan {
  HistorySpec spec;
  std::string featurised;               // SELECT: every source row with its history columns
  std::string training_from;            // FROM item: the rows trained on
  bool by_time = false;                 // the latest rows are held out (metrics from them)
  int64_t cutoff = 0;                   // the holdout: rows at or after this time (microseconds)
  std::string cutoff_text;              // the same time as text, for the training record
  std::vector<TrainingColumn> columns;  // one numeric column per history feature
};

// Checks the declaration against the source, builds the queries and, for a time holdout,
// finds the time from which the latest `options.holdout` of labelled rows start.
HistoryPlan PlanHistoryTraining(Oid relid, const std::string& source, const std::string& schema,
                                const std::string& label, const TrainingOptions& options);

// The FROM item of the rows trained on: `featurised` (FeaturisingQuery over the source, or on a
// Citus worker over the relation of its shards) without the held-out latest rows.
std::string HistoryTrainingFrom(const HistoryPlan& plan, const std::string& featurised);

// Marks the model's history features and records the declaration in it.
void AdoptHistory(const HistoryPlan& plan, Model* model);

// Metrics of `model` on the held-out latest rows (with their history as of their time).
Metrics EvaluateHeldOut(const HistoryPlan& plan, const Model& model, const std::string& label, double* rows_out);

}  // namespace glue
}  // namespace pgfraud
