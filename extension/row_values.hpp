// Reading a model's feature values straight from a row's attributes (typed fast path, trigger).
#pragma once

#include "feature_value.hpp"
#include "model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// How one attribute becomes a FeatureValue; resolved once per row type and model.
struct ColumnPlan {
  AttrNumber attnum;  // 1-based
  enum class Conversion : uint8_t {
    kFloat8, kFloat4, kInt2, kInt4, kInt8, kNumeric, kBool, kText, kBpchar, kName,
    kTimestamp, kTimestampTz, kDate, kOutputText
  } conversion;
  bool want_hour;     // time columns: hour_of_day (true) or day_of_week (false)
  Oid output_fn;      // kOutputText: the type's output function
};

// Maps each feature of `model` to an attribute of `desc`, by exact name, else by a unique
// case-insensitive match; throws Error for a missing column or a type the feature cannot use.
// `plans` has one slot per feature.
void PlanColumns(const Model& model, TupleDesc desc, ColumnPlan* plans);

// Fills values[i] from the deformed row (datums/nulls indexed by attnum - 1).
void RowFeatureValues(const Model& model, const ColumnPlan* plans, const Datum* datums, const bool* nulls,
                      FeatureValue* values);

}  // namespace glue
}  // namespace pgfraud
