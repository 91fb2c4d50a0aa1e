// Metrics of a model on held-out rows read through a query: the latest rows of a time
// holdout, the rows a holdout column marks.
#include "training/held_out_rows.hpp"

#include "guard.hpp"
#include "history/history_sql.hpp"
#include "training/training_data.hpp"
#include "values/row_values.hpp"

namespace pgfraud {
namespace glue {

Metrics EvaluateRows(const std::string& from, const Model& model, const std::string& label, double* rows_out) {
  const std::string sql = "SELECT f.*, f." + Ident(label) + "::pg_catalog.text AS pg_fraud_label FROM " + from +
                          " AS f WHERE f." + Ident(label) + " IS NOT NULL";
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
  return Evaluate(histogram, loss, ThresholdChoice::Of(model.threshold, model.CutLogit()));
}

}  // namespace glue
}  // namespace pgfraud
