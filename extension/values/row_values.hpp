// Reading a model's feature values straight from a row's attributes (typed fast path, trigger).
#pragma once

#include <map>
#include <string>

#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// How one attribute becomes a FeatureValue; resolved once per row type and model.
struct ColumnPlan {
  AttrNumber attnum;  // 1-based
  enum class Conversion : uint8_t {
    kFloat8,
    kFloat4,
    kInt2,
    kInt4,
    kInt8,
    kNumeric,
    kBool,
    kText,
    kBpchar,
    kName,
    kTimestamp,
    kTimestampTz,
    kDate,
    kOutputText
  } conversion;
  bool want_hour;      // time columns: hour_of_day (true) or day_of_week (false)
  Oid output_fn;       // kOutputText: the type's output function
  struct pg_tz* zone;  // kTimestampTz: the model's time zone (nullptr: the session's)
};

// The attribute number of the column of exactly this name, 0 when there is none.
AttrNumber ExactAttribute(TupleDesc desc, const std::string& name);

// Feature name -> column name, for features read from a differently named column (the
// trigger's "columns" attach option).
using ColumnNames = std::map<std::string, std::string>;

// Maps each feature of `model` to an attribute of `desc`, by exact name, else by a unique
// case-insensitive match (a feature in `columns`: that column, by exact name); throws Error
// for a missing column or a type the feature cannot use. `plans` has one slot per feature.
void PlanColumns(const Model& model, TupleDesc desc, ColumnPlan* plans, const ColumnNames* columns = nullptr);

// Plans feature `f` read from a value of `type` at position attnum - 1 of the datums.
ColumnPlan PlanValue(const Feature& f, Oid type, AttrNumber attnum);

// The value of a non-NULL attribute as its plan reads it, written into `out`: numbers and
// booleans here (the common case, inlined into the readers), the rest by ConvertVarlenaOrTime.
FeatureValue ConvertVarlenaOrTime(const ColumnPlan& plan, Datum d);
inline void ConvertInto(const ColumnPlan& plan, Datum d, FeatureValue& out) {
  using Conversion = ColumnPlan::Conversion;
  switch (plan.conversion) {
    case Conversion::kFloat8: out.SetNumber(DatumGetFloat8(d)); break;
    case Conversion::kFloat4: out.SetNumber(DatumGetFloat4(d)); break;
    case Conversion::kInt2: out.SetNumber(DatumGetInt16(d)); break;
    case Conversion::kInt4: out.SetNumber(DatumGetInt32(d)); break;
    case Conversion::kInt8: out.SetNumber(static_cast<double>(DatumGetInt64(d))); break;
    case Conversion::kBool: out.SetBool(DatumGetBool(d)); break;
    default: out = ConvertVarlenaOrTime(plan, d);
  }
}
// The same for a value that may be NULL (then Missing).
inline void ConvertOrMissing(const ColumnPlan& plan, bool is_null, Datum d, FeatureValue& out) {
  if (is_null) {
    out.SetMissing();
  } else {
    ConvertInto(plan, d, out);
  }
}

// Fills values[i] from the deformed row (datums/nulls indexed by attnum - 1).
void RowFeatureValues(const Model& model, const ColumnPlan* plans, const Datum* datums, const bool* nulls,
                      FeatureValue* values);

// Reads rows of one composite type into feature values for one model, planning the columns
// once per row type. Lives in `context` (a function's or an aggregate's memory).
struct RowReader {
  MemoryContext context;
  uint64_t epoch;  // SchemaEpoch() when planned: ALTER TABLE makes a plan stale
  Oid row_type;
  int32 row_typmod;
  TupleDesc desc;
  ColumnPlan* plans;  // one per feature, sized by Reset
  Datum* datums;
  bool* nulls;
  const ColumnNames* columns;  // optional feature -> column names (not owned)

  // Prepares for `features` features (after the model changed); forgets the row plan.
  void Reset(MemoryContext cxt, size_t features);

  // Deforms `row` (a composite datum) and fills values (one per feature of `model`).
  void Read(const Model& model, HeapTupleHeader row, FeatureValue* values);

  // The same for a table's tuple and its descriptor (a trigger's new row).
  void ReadTuple(const Model& model, HeapTuple tuple, TupleDesc tuple_desc, FeatureValue* values);
  // The tuple last given to ReadTuple with columns[i] set to values[i], as
  // heap_modify_tuple_by_cols makes it but from the attributes already deformed. PostgreSQL
  // code: call inside PgCall.
  HeapTuple ModifiedTuple(HeapTuple tuple, TupleDesc tuple_desc, int count, const int* columns, const Datum* values,
                          const bool* is_null);

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

  void Reset(MemoryContext cxt, size_t feature_count);
  void Read(const Model& model, FunctionCallInfo fcinfo, int first, FeatureValue* values);
  // The same, each value handed to sink(feature index, value) instead of stored (a reader
  // that copies the values anyway writes them once).
  template <typename Sink>
  void ReadInto(const Model& model, FunctionCallInfo fcinfo, int first, Sink&& sink) {
    Prepare(model, fcinfo, first);
    FeatureValue value;
    for (size_t i = 0; i < features; ++i) {
      const NullableDatum& argument = fcinfo->args[first + static_cast<int>(i)];
      ConvertOrMissing(plans[i], argument.isnull, argument.value, value);
      sink(i, value);
    }
  }

 private:
  // Checks the argument count against the spec; plans the columns on the first row.
  void Prepare(const Model& model, FunctionCallInfo fcinfo, int first);
};

}  // namespace glue
}  // namespace pgfraud
