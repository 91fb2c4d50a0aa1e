// Planning a training run over history features, and its evaluation on the latest rows.
#include "history/history_training.hpp"

#include <cmath>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_sql.hpp"
#include "training/held_out_rows.hpp"
#include "values/row_values.hpp"

namespace pgfraud {
namespace glue {
namespace {

// The time (microseconds) from which the latest `fraction` of labelled, timed rows start.
bool Cutoff(const std::string& source, const HistorySpec& spec, const std::string& label, double fraction,
            int64_t* micros, std::string* text) {
  const std::string t = "s." + Ident(spec.time);
  const std::string sql = "SELECT pg_catalog.percentile_disc(" + std::to_string(1.0 - fraction) +
                          "::pg_catalog.float8) WITHIN GROUP (ORDER BY " + t + ") FROM " + source + " AS s WHERE s." +
                          Ident(label) + " IS NOT NULL AND " + t + " IS NOT NULL";
  return PgCall([&] {
    if (SPI_execute(("SELECT " + MicrosExpr("c.t") + ", c.t::pg_catalog.text FROM (" + sql + ") AS c(t)").c_str(), true,
                    1) != SPI_OK_SELECT ||
        SPI_processed != 1) {
      elog(ERROR, "pg_fraud: the holdout time query returned no row");
    }
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) return false;
    *micros = DatumGetInt64(d);
    *text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
    return true;
  });
}

}  // namespace

HistoryPlan PlanHistoryTraining(Oid relid, const std::string& source, const std::string& schema,
                                const std::string& label, const TrainingOptions& options) {
  HistoryPlan plan;
  plan.spec = HistorySpec::FromOption(options.history, WindowLength);
  plan.spec.relation = source;
  (void)DescribeHistoryColumns(relid, plan.spec);
  for (const std::string& name : plan.spec.by) {
    if (name == label) throw Error(ErrorCode::kInvalidParameterValue, "the label column cannot be a history column");
  }
  if (plan.spec.time == label)
    throw Error(ErrorCode::kInvalidParameterValue, "the label column cannot be a history column");
  for (const HistoryFeatureInfo& f : plan.spec.Features()) {
    if (f.name.size() >= NAMEDATALEN) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "history feature \"" + f.name.substr(0, 40) + "...\" has too long a name",
                  "Feature names are column names (at most 63 bytes): use shorter column names or window labels.");
    }
    plan.columns.push_back({f.name, ColumnKind::kNumeric});
  }
  plan.featurised = FeaturisingQuery(schema, source, plan.spec);
  if (options.holdout_by_time && options.holdout > 0) {
    plan.by_time = Cutoff(source, plan.spec, label, options.holdout, &plan.cutoff, &plan.cutoff_text);
  }
  plan.training_from = HistoryTrainingFrom(plan, plan.featurised);
  return plan;
}

std::string HistoryTrainingFrom(const HistoryPlan& plan, const std::string& featurised) {
  if (!plan.by_time) return "(" + featurised + ")";
  return "(SELECT * FROM (" + featurised + ") AS f WHERE NOT COALESCE(" + MicrosExpr("f." + Ident(plan.spec.time)) +
         " OPERATOR(pg_catalog.>=) " + std::to_string(plan.cutoff) + ", false))";
}

void AdoptHistory(const HistoryPlan& plan, Model* model) {
  const std::vector<HistoryFeatureInfo> derived = plan.spec.Features();
  for (Feature& f : model->features) {
    for (size_t i = 0; i < derived.size(); ++i) {
      if (f.kind == FeatureKind::kNumeric && derived[i].name == f.name) f.history = static_cast<int>(i);
    }
  }
  model->history = plan.spec;
}

Metrics EvaluateHeldOut(const HistoryPlan& plan, const Model& model, const std::string& label, double* rows_out) {
  const std::string from = "(SELECT * FROM (" + plan.featurised + ") AS f WHERE " +
                           MicrosExpr("f." + Ident(plan.spec.time)) + " OPERATOR(pg_catalog.>=) " +
                           std::to_string(plan.cutoff) + ")";
  return EvaluateRows(from, model, label, rows_out);
}

}  // namespace glue
}  // namespace pgfraud
