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

// Plans feature `f` read from a value of `type` at position attnum - 1 of the datums.
ColumnPlan PlanValue(const Feature& f, Oid type, AttrNumber attnum);

// Fills values[i] from the deformed row (datums/nulls indexed by attnum - 1).
void RowFeatureValues(const Model& model, const ColumnPlan* plans, const Datum* datums, const bool* nulls,
                      FeatureValue* values);

// Reads rows of one composite type into feature values for one model, planning the columns
// once per row type. Lives in `context` (a function's or an aggregate's memory).
struct RowReader {
  MemoryContext context;
  uint64_t epoch;     // SchemaEpoch() when planned: ALTER TABLE makes a plan stale
  Oid row_type;
  int32 row_typmod;
  TupleDesc desc;
  ColumnPlan* plans;  // one per feature, sized by Reset
  Datum* datums;
  bool* nulls;

  // Prepares for `features` features (after the model changed); forgets the row plan.
  void Reset(MemoryContext cxt, size_t features);

  // Deforms `row` (a composite datum) and fills values (one per feature of `model`).
  void Read(const Model& model, HeapTupleHeader row, FeatureValue* values);

  // The same for a table's tuple and its descriptor (a trigger's new row).
  void ReadTuple(const Model& model, HeapTuple tuple, TupleDesc tuple_desc, FeatureValue* values);

 private:
  void Plan(const Model& model, TupleDesc source, Oid type, int32 typmod);
};

// Reads feature values from a function's arguments first, first + 1, ... (one per feature,
// in the model's order), as the aggregate fraud_train_columns(spec, VARIADIC "any") gets
// them: no whole-row datum is built and taken apart again. Lives in `context`.
struct ArgumentReader {
  MemoryContext context;
  size_t features;
  ColumnPlan* plans;  // planned on the first row: the argument types of a call never change
  Datum* datums;
  bool* nulls;

  void Reset(MemoryContext cxt, size_t feature_count);
  void Read(const Model& model, FunctionCallInfo fcinfo, int first, FeatureValue* values);
};

}  // namespace glue
}  // namespace pgfraud
