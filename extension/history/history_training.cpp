// Planning a training run over history features, and its evaluation on the latest rows.
#include "history/history_training.hpp"

#include <cmath>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_sql.hpp"
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
    if (SPI_execute(("SELECT " + MicrosExpr("c.t") + ", c.t::pg_catalog.text FROM (" + sql + ") AS c(t)").c_str(),
                    true, 1) != SPI_OK_SELECT || SPI_processed != 1) {
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
  if (plan.spec.time == label) throw Error(ErrorCode::kInvalidParameterValue, "the label column cannot be a history column");
  for (const HistoryFeatureInfo& f : plan.spec.Features()) {
    if (f.name.size() >= NAMEDATALEN) {
      throw Error(ErrorCode::kInvalidParameterValue, "history feature \"" + f.name.substr(0, 40) + "...\" has too long a name",
                  "Feature names are column names (at most 63 bytes): use shorter column names or window labels.");
    }
    plan.columns.push_back({f.name, ColumnKind::kNumeric});
  }
  plan.featurised = FeaturisingQuery(schema, source, plan.spec);
  plan.training_from = "(" + plan.featurised + ")";
  if (options.holdout_by_time && options.holdout > 0) {
    plan.by_time = Cutoff(source, plan.spec, label, options.holdout, &plan.cutoff, &plan.cutoff_text);
    if (plan.by_time) {
      plan.training_from = "(SELECT * FROM (" + plan.featurised + ") AS f WHERE NOT COALESCE(" +
                           MicrosExpr("f." + Ident(plan.spec.time)) + " OPERATOR(pg_catalog.>=) " +
                           std::to_string(plan.cutoff) + ", false))";
    }
  }
  return plan;
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
  const std::string sql = "SELECT f.*, f." + Ident(label) + "::pg_catalog.text AS pg_fraud_label FROM (" +
                          plan.featurised + ") AS f WHERE " + MicrosExpr("f." + Ident(plan.spec.time)) +
                          " OPERATOR(pg_catalog.>=) " + std::to_string(plan.cutoff) + " AND f." + Ident(label) +
                          " IS NOT NULL";
  Feature label_feature;
  label_feature.name = label;
  label_feature.kind = FeatureKind::kBoolean;
  ScoreHistogram histogram;
  double loss = 0.0, rows = 0.0;
  RowReader reader{};
  const size_t n = model.features.size();
  std::vector<FeatureValue> values(n + 1);
  Portal portal = PgCall([&] {
    reader.Reset(CurrentMemoryContext, n);
    SPIPlanPtr p = SPI_prepare(sql.c_str(), 0, nullptr);
    if (p == nullptr) elog(ERROR, "pg_fraud: preparing the holdout query failed");
    return SPI_cursor_open(nullptr, p, nullptr, nullptr, true);
  });
  for (;;) {
    const uint64 fetched = PgCall([&] {
      CHECK_FOR_INTERRUPTS();
      SPI_cursor_fetch(portal, true, 10000);
      return SPI_processed;
    });
    if (fetched == 0) break;
    for (uint64 r = 0; r < fetched; ++r) {
      std::string text;
      PgCall([&] {
        HeapTuple tuple = SPI_tuptable->vals[r];
        reader.ReadTuple(model, tuple, SPI_tuptable->tupdesc, values.data());
        text = SPI_getvalue(tuple, SPI_tuptable->tupdesc, SPI_tuptable->tupdesc->natts);
      });
      const std::optional<bool> y = ReadLabel(label_feature, FeatureValue::Text(text));
      if (!y) continue;
      const double z = model.Logit(values.data());
      histogram.Add(z, *y);
      loss += Softplus(z) - (*y ? z : 0.0);
      rows += 1;
    }
    PgCall([&] { SPI_freetuptable(SPI_tuptable); });
  }
  PgCall([&] { SPI_cursor_close(portal); });
  *rows_out = rows;
  return Evaluate(histogram, loss, model.threshold);
}

}  // namespace glue
}  // namespace pgfraud
