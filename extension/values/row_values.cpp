// Attribute -> FeatureValue conversions by type, planned once per row type.
#include "values/row_values.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "common/errors.hpp"
#include "guard.hpp"
#include "values/time_zones.hpp"
#include "scoring/model_cache.hpp"
#include "values/numeric_decode.hpp"

namespace pgfraud {
namespace glue {
namespace {

using Conversion = ColumnPlan::Conversion;

bool SameNameIgnoringCase(const char* a, const std::string& b) {
  size_t i = 0;
  for (; a[i] != '\0' && i < b.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return a[i] == '\0' && i == b.size();
}

// The attribute feeding feature `name`: exact match first, then a unique case-insensitive one.

}  // namespace

AttrNumber ExactAttribute(TupleDesc desc, const std::string& name) {
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && name == NameStr(att->attname)) return att->attnum;
  }
  return 0;
}

namespace {

Form_pg_attribute FindAttribute(TupleDesc desc, const std::string& name) {
  Form_pg_attribute folded = nullptr;
  int folded_matches = 0;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (att->attisdropped) continue;
    if (name == NameStr(att->attname)) return att;
    if (SameNameIgnoringCase(NameStr(att->attname), name)) {
      folded = att;
      ++folded_matches;
    }
  }
  if (folded_matches > 1) {
    throw Error(ErrorCode::kUndefinedColumn, "feature \"" + name + "\" matches several columns",
                "Column names that differ only in case are ambiguous; rename one.");
  }
  if (folded == nullptr) {
    throw Error(ErrorCode::kUndefinedColumn, "no column for feature \"" + name + "\"",
                "Every feature of the model needs a column of the same name.");
  }
  return folded;
}

bool IsNumberType(Oid type) {
  return type == FLOAT8OID || type == FLOAT4OID || type == INT2OID || type == INT4OID || type == INT8OID ||
         type == NUMERICOID;
}

bool IsTimeType(Oid type) { return type == TIMESTAMPOID || type == TIMESTAMPTZOID || type == DATEOID; }

Conversion DirectConversion(Oid type) {
  switch (type) {
    case FLOAT8OID: return Conversion::kFloat8;
    case FLOAT4OID: return Conversion::kFloat4;
    case INT2OID: return Conversion::kInt2;
    case INT4OID: return Conversion::kInt4;
    case INT8OID: return Conversion::kInt8;
    case NUMERICOID: return Conversion::kNumeric;
    case BOOLOID: return Conversion::kBool;
    case TEXTOID:
    case VARCHAROID: return Conversion::kText;
    case BPCHAROID: return Conversion::kBpchar;
    case NAMEOID: return Conversion::kName;
    case TIMESTAMPOID: return Conversion::kTimestamp;
    case TIMESTAMPTZOID: return Conversion::kTimestampTz;
    case DATEOID: return Conversion::kDate;
    default: return Conversion::kOutputText;
  }
}

[[noreturn]] void ThrowMismatch(const Feature& f) {
  throw Error(ErrorCode::kDatatypeMismatch,
              std::string("column for feature \"") + f.name + "\" has a type that features of kind " +
                  FeatureKindName(f.kind) + " cannot use",
              "Numeric features take numbers or text, boolean features booleans, numbers or text, "
              "time features timestamps, dates, numbers or text.");
}

// Chooses the conversion of one column for one feature, refusing types that cannot fit.
Conversion ChooseConversion(const Feature& f, Oid type) {
  const bool textual = type == TEXTOID || type == VARCHAROID || type == BPCHAROID || type == NAMEOID;
  switch (f.kind) {
    case FeatureKind::kNumeric:
      if (type == BOOLOID || IsTimeType(type)) ThrowMismatch(f);
      return DirectConversion(type);
    case FeatureKind::kBoolean:
      if (type == BOOLOID || textual || IsNumberType(type)) return DirectConversion(type);
      ThrowMismatch(f);
    case FeatureKind::kCategorical:
      // Numbers and enums are matched by their text, exactly as the training saw them.
      if (textual || type == BOOLOID) return DirectConversion(type);
      return Conversion::kOutputText;
    case FeatureKind::kHourOfDay:
    case FeatureKind::kDayOfWeek:
      if (IsTimeType(type) || textual || IsNumberType(type)) return DirectConversion(type);
      ThrowMismatch(f);
  }
  ThrowMismatch(f);
}

// Hour or weekday of a timestamp already split into fields; NaN when out of range.
double TimeSlot(bool want_hour, int status, const struct pg_tm& tm) {
  if (status != 0) return std::numeric_limits<double>::quiet_NaN();
  return want_hour ? tm.tm_hour : j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday));
}

FeatureValue TimeValue(const ColumnPlan& plan, Datum d) {
  struct pg_tm tm = {};
  fsec_t fsec;
  int tz;
  switch (plan.conversion) {
    case Conversion::kTimestamp: {
      Timestamp ts = DatumGetTimestamp(d);
      if (TIMESTAMP_NOT_FINITE(ts)) return FeatureValue::Number(std::numeric_limits<double>::infinity());
      return FeatureValue::Number(
          TimeSlot(plan.want_hour, timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr), tm));
    }
    case Conversion::kTimestampTz: {
      TimestampTz ts = DatumGetTimestampTz(d);
      if (TIMESTAMP_NOT_FINITE(ts)) return FeatureValue::Number(std::numeric_limits<double>::infinity());
      return FeatureValue::Number(TimeSlot(plan.want_hour, timestamp2tm(ts, &tz, &tm, &fsec, nullptr, plan.zone), tm));
    }
    default: {
      DateADT date = DatumGetDateADT(d);
      if (DATE_NOT_FINITE(date)) return FeatureValue::Number(std::numeric_limits<double>::infinity());
      if (plan.want_hour) return FeatureValue::Number(0);
      j2date(date + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
      return FeatureValue::Number(j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday)));
    }
  }
}

std::string_view VarlenaText(Datum d) {
  struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
  return std::string_view(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

}  // namespace

ColumnPlan PlanValue(const Feature& f, Oid declared_type, AttrNumber attnum) {
  const Oid type = PgCall([declared_type] { return getBaseType(declared_type); });
  ColumnPlan plan{};
  plan.attnum = attnum;
  plan.conversion = ChooseConversion(f, type);
  plan.want_hour = f.kind == FeatureKind::kHourOfDay;
  plan.output_fn = InvalidOid;
  if (plan.conversion == Conversion::kOutputText) {
    bool varlena;
    Oid output_fn;
    PgCall([type, &output_fn, &varlena] { getTypeOutputInfo(type, &output_fn, &varlena); });
    plan.output_fn = output_fn;
  }
  return plan;
}

void PlanColumns(const Model& model, TupleDesc desc, ColumnPlan* plans, const ColumnNames* columns) {
  for (size_t i = 0; i < model.features.size(); ++i) {
    const std::string& name = model.features[i].name;
    if (model.features[i].history >= 0 && ExactAttribute(desc, name) == 0) {
      plans[i] = ColumnPlan{};  // attnum 0: computed from history by the caller (history_lookup.hpp)
      continue;
    }
    const auto mapped = columns != nullptr ? columns->find(name) : ColumnNames::const_iterator();
    Form_pg_attribute att;
    if (columns != nullptr && mapped != columns->end()) {
      const AttrNumber a = ExactAttribute(desc, mapped->second);
      if (a == 0) {
        throw Error(ErrorCode::kUndefinedColumn, "no column \"" + mapped->second + "\" for feature \"" + name + "\"",
                    "The attach option \"columns\" maps the feature to that column.");
      }
      att = TupleDescAttr(desc, a - 1);
    } else {
      att = FindAttribute(desc, name);
    }
    plans[i] = PlanValue(model.features[i], att->atttypid, att->attnum);
    plans[i].zone = ModelZone(model);
  }
}

FeatureValue ConvertVarlenaOrTime(const ColumnPlan& plan, Datum d) {
  switch (plan.conversion) {
    case Conversion::kNumeric:
      // Short-header numerics are read in place; only compressed or external ones are copied.
      return FeatureValue::Number(NumericToDouble(
          reinterpret_cast<Numeric>(pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d))))));
    case Conversion::kText: return FeatureValue::Text(VarlenaText(d));
    case Conversion::kBpchar: {
      std::string_view s = VarlenaText(d);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);  // blank padding is not significant
      return FeatureValue::Text(s);
    }
    case Conversion::kName: return FeatureValue::Text(NameStr(*DatumGetName(d)));
    case Conversion::kOutputText: return FeatureValue::Text(OidOutputFunctionCall(plan.output_fn, d));
    default: return TimeValue(plan, d);
  }
}

void RowFeatureValues(const Model& model, const ColumnPlan* plans, const Datum* datums, const bool* nulls,
                      FeatureValue* values) {
  for (size_t i = 0; i < model.features.size(); ++i) {
    const int index = plans[i].attnum - 1;
    if (index < 0) {
      values[i].SetMissing();
      continue;
    }
    ConvertOrMissing(plans[i], nulls[index], datums[index], values[i]);
  }
}

void RowReader::Reset(MemoryContext cxt, size_t features) {
  context = cxt;
  row_type = InvalidOid;
  PgCall([this, features] {
    if (plans != nullptr) pfree(plans);
    plans = static_cast<ColumnPlan*>(MemoryContextAllocZero(context, sizeof(ColumnPlan) * (features + 1)));
  });
}

void RowReader::Plan(const Model& model, TupleDesc source, Oid type, int32 typmod) {
  row_type = InvalidOid;  // stays invalid if planning fails
  PgCall([&] {
    MemoryContext old = MemoryContextSwitchTo(context);
    TupleDesc copy = CreateTupleDescCopy(source);
    if (desc != nullptr) FreeTupleDesc(desc);
    if (datums != nullptr) pfree(datums);
    if (nulls != nullptr) pfree(nulls);
    desc = copy;
    datums = static_cast<Datum*>(palloc(sizeof(Datum) * (copy->natts + 1)));
    nulls = static_cast<bool*>(palloc(sizeof(bool) * (copy->natts + 1)));
    MemoryContextSwitchTo(old);
  });
  PlanColumns(model, desc, plans, columns);
  row_type = type;
  row_typmod = typmod;
  epoch = SchemaEpoch();
}

void RowReader::Read(const Model& model, HeapTupleHeader row, FeatureValue* values) {
  Oid type = HeapTupleHeaderGetTypeId(row);
  int32 typmod = HeapTupleHeaderGetTypMod(row);
  if (row_type != type || row_typmod != typmod || desc == nullptr || epoch != SchemaEpoch()) {
    TupleDesc looked_up = PgCall([&] { return lookup_rowtype_tupdesc(type, typmod); });
    try {
      Plan(model, looked_up, type, typmod);
    } catch (...) {
      PgCall([&] { ReleaseTupleDesc(looked_up); });
      throw;
    }
    PgCall([&] { ReleaseTupleDesc(looked_up); });
  }
  HeapTupleData tuple;
  tuple.t_len = HeapTupleHeaderGetDatumLength(row);
  ItemPointerSetInvalid(&tuple.t_self);
  tuple.t_tableOid = InvalidOid;
  tuple.t_data = row;
  heap_deform_tuple(&tuple, desc, datums, nulls);
  RowFeatureValues(model, plans, datums, nulls, values);
}

void RowReader::ReadTuple(const Model& model, HeapTuple tuple, TupleDesc tuple_desc, FeatureValue* values) {
  if (row_type != tuple_desc->tdtypeid || desc == nullptr || epoch != SchemaEpoch()) {
    Plan(model, tuple_desc, tuple_desc->tdtypeid, -1);
  }
  heap_deform_tuple(tuple, tuple_desc, datums, nulls);
  RowFeatureValues(model, plans, datums, nulls, values);
}

HeapTuple RowReader::ModifiedTuple(HeapTuple tuple, TupleDesc tuple_desc, int count, const int* columns,
                                   const Datum* values, const bool* is_null) {
  if (desc == nullptr || desc->natts != tuple_desc->natts) {
    return heap_modify_tuple_by_cols(tuple, tuple_desc, count, const_cast<int*>(columns), const_cast<Datum*>(values),
                                     const_cast<bool*>(is_null));
  }
  for (int i = 0; i < count; ++i) {
    datums[columns[i] - 1] = values[i];
    nulls[columns[i] - 1] = is_null[i];
  }
  HeapTuple result = heap_form_tuple(tuple_desc, datums, nulls);
  result->t_data->t_ctid = tuple->t_data->t_ctid;
  result->t_self = tuple->t_self;
  result->t_tableOid = tuple->t_tableOid;
  return result;
}

void ArgumentReader::Reset(MemoryContext cxt, size_t feature_count) {
  context = cxt;
  features = feature_count;
  PgCall([this] {
    if (plans != nullptr) pfree(plans);
    plans = nullptr;
  });
}

void ArgumentReader::Prepare(const Model& model, FunctionCallInfo fcinfo, int first) {
  // A trailing tuple id (the row's position, for a holdout drawn by position) or boolean (the
  // row's side, for a holdout the query marks) is not a value.
  const int values = fcinfo->nargs - first;
  const Oid last =
      values == static_cast<int>(features) + 1 ? get_fn_expr_argtype(fcinfo->flinfo, fcinfo->nargs - 1) : InvalidOid;
  const bool trailing = last == TIDOID || last == BOOLOID;
  if ((values != static_cast<int>(features) && !trailing) || model.features.size() != features) {
    throw Error(ErrorCode::kInternal, "training pass called with a column count that does not match its spec");
  }
  if (plans != nullptr) return;
  auto* planned = PgCall([this] {
    return static_cast<ColumnPlan*>(MemoryContextAllocZero(context, sizeof(ColumnPlan) * (features + 1)));
  });
  for (size_t i = 0; i < features; ++i) {
    const Oid type = PgCall([&] { return get_fn_expr_argtype(fcinfo->flinfo, first + static_cast<int>(i)); });
    if (type == InvalidOid) throw Error(ErrorCode::kInternal, "training pass cannot see its argument types");
    planned[i] = PlanValue(model.features[i], type, static_cast<AttrNumber>(i + 1));
  }
  plans = planned;
}

void ArgumentReader::Read(const Model& model, FunctionCallInfo fcinfo, int first, FeatureValue* values) {
  Prepare(model, fcinfo, first);
  for (size_t i = 0; i < features; ++i) {
    const NullableDatum& argument = fcinfo->args[first + static_cast<int>(i)];
    ConvertOrMissing(plans[i], argument.isnull, argument.value, values[i]);
  }
}

}  // namespace glue
}  // namespace pgfraud
