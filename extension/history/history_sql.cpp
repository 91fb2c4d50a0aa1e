// Column checks, window lengths and query text for history features.
#include "history/history_sql.hpp"

#include "common/errors.hpp"
#include "guard.hpp"

namespace pgfraud {
namespace glue {
namespace {

bool IsKeyType(Oid type) {
  switch (type) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID:
    case UUIDOID:
    case NAMEOID: return true;
    default: return PgCall([type] { return type_is_enum(type); });
  }
}

bool IsAmountType(Oid type) {
  return type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID || type == FLOAT4OID ||
         type == FLOAT8OID;
}

HistoryColumn Find(Oid relid, const std::string& name, const char* role) {
  HistoryColumn c;
  c.name = name;
  bool found = PgCall([&] {
    HeapTuple tuple = SearchSysCacheAttName(relid, name.c_str());
    if (!HeapTupleIsValid(tuple)) return false;
    auto* att = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tuple));
    c.type = getBaseType(att->atttypid);
    c.typmod = att->atttypmod;
    ReleaseSysCache(tuple);
    return true;
  });
  if (!found) {
    throw Error(ErrorCode::kUndefinedColumn,
                std::string("history ") + role + " column \"" + name + "\" does not exist");
  }
  return c;
}

[[noreturn]] void WrongType(const std::string& name, const char* role, const char* expected) {
  throw Error(ErrorCode::kDatatypeMismatch,
              std::string("history ") + role + " column \"" + name + "\" has a type it cannot use",
              std::string("A history ") + role + " column must be " + expected + ".");
}

}  // namespace

std::string Ident(const std::string& name) {
  return PgCall([&] { return std::string(quote_identifier(name.c_str())); });
}

Oid RelationByName(const std::string& name) {
  return PgCall([&] {
    List* names = stringToQualifiedNameList(name.c_str());
    return RangeVarGetRelid(makeRangeVarFromNameList(names), AccessShareLock, false);
  });
}

HistoryColumns DescribeHistoryColumns(Oid relid, const HistorySpec& spec) {
  HistoryColumns out;
  for (const std::string& b : spec.by) {
    out.by.push_back(Find(relid, b, "entity"));
    if (!IsKeyType(out.by.back().type)) WrongType(b, "entity", "an integer, text, uuid or enum");
  }
  out.time = Find(relid, spec.time, "time");
  if (out.time.type != TIMESTAMPOID && out.time.type != TIMESTAMPTZOID && out.time.type != DATEOID) {
    WrongType(spec.time, "time", "a timestamp, timestamptz or date");
  }
  for (const std::string& a : spec.amounts) {
    out.amounts.push_back(Find(relid, a, "amount"));
    if (!IsAmountType(out.amounts.back().type)) WrongType(a, "amount", "a number");
  }
  for (const auto& [names, list, role] :
       {std::make_tuple(&spec.distinct, &out.distinct, "distinct"), std::make_tuple(&spec.fresh, &out.fresh, "new")}) {
    for (const std::string& n : *names) {
      list->push_back(Find(relid, n, role));
      if (!IsKeyType(list->back().type) && list->back().type != BOOLOID) {
        WrongType(n, role, "an integer, text, uuid, enum or boolean");
      }
    }
  }
  return out;
}

int64_t WindowLength(const std::string& text) {
  Interval span{};
  try {
    span = PgCall([&] {
      return *DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(text.c_str()),
                                                    ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    });
  } catch (const PgException&) {
    throw Error(ErrorCode::kInvalidParameterValue, "a history window is not an interval",
                "Windows are interval text such as \"1 hour\", \"1 day\" or \"30 days\".");
  }
  if (span.month != 0) {
    throw Error(ErrorCode::kInvalidParameterValue, "a history window must have a fixed length",
                "Months and years vary in length: give the window in days, e.g. \"30 days\".");
  }
  const int64_t micros = static_cast<int64_t>(span.day) * USECS_PER_DAY + span.time;
  if (micros <= 0) throw Error(ErrorCode::kInvalidParameterValue, "a history window must be positive");
  return micros;
}

std::string MicrosExpr(const std::string& expr) {
  // EXTRACT gives numeric: exact microseconds (date_part's float8 would round).
  return "(EXTRACT(epoch FROM " + expr + ") OPERATOR(pg_catalog.*) 1000000::pg_catalog.numeric)::pg_catalog.int8";
}

namespace {
constexpr int64_t kShift = static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}  // namespace

Datum MicrosTime(Oid type, int64_t micros) {
  const int64_t since_2000 = micros - kShift;
  if (type == DATEOID) {
    int64_t day = since_2000 / USECS_PER_DAY;
    if (day * USECS_PER_DAY < since_2000) ++day;  // rounded up
    return DateADTGetDatum(static_cast<DateADT>(day));
  }
  return Int64GetDatum(since_2000);
}

bool TimeMicros(Oid type, Datum value, int64_t* out) {
  if (type == DATEOID) {
    const DateADT date = DatumGetDateADT(value);
    if (DATE_NOT_FINITE(date)) return false;
    *out = static_cast<int64_t>(date) * USECS_PER_DAY + kShift;
    return true;
  }
  const int64_t ts = DatumGetInt64(value);  // Timestamp and TimestampTz: microseconds since 2000-01-01
  if (TIMESTAMP_NOT_FINITE(ts)) return false;
  *out = ts + kShift;
  return true;
}

std::string FeaturisingQuery(const std::string& schema, const std::string& source, const HistorySpec& spec) {
  const std::vector<HistoryFeatureInfo> features = spec.Features();
  const size_t per = spec.FeaturesPerEntity();
  std::string spec_literal = PgCall([&] { return std::string(quote_literal_cstr(spec.ToJson().dump().c_str())); });
  auto list = [&](const std::vector<std::string>& names, const char* type) {
    std::string out = "ARRAY[";
    for (size_t i = 0; i < names.size(); ++i) out += (i ? ", s." : "s.") + Ident(names[i]) + "::" + type;
    return out + "]::" + type + "[]";
  };
  std::string inner = "SELECT s.*";
  for (size_t e = 0; e < spec.by.size(); ++e) {
    inner += ", " + schema + ".fraud_history_window(" + spec_literal + "::pg_catalog.text, s." + Ident(spec.by[e]) +
             " IS NULL, s." + Ident(spec.time) + ", " + list(spec.amounts, "pg_catalog.float8") + ", " +
             list(spec.distinct, "pg_catalog.text") + ", " + list(spec.fresh, "pg_catalog.text") +
             ") OVER (PARTITION BY s." + Ident(spec.by[e]) + " ORDER BY s." + Ident(spec.time) + ") AS pg_fraud_w" +
             std::to_string(e);
  }
  inner += " FROM " + source + " AS s";
  std::string outer = "SELECT s.*";
  for (size_t i = 0; i < features.size(); ++i) {
    outer += ", s.pg_fraud_w" + std::to_string(features[i].entity) + "[" + std::to_string(i % per + 1) + "] AS " +
             Ident(features[i].name);
  }
  return outer + " FROM (" + inner + ") AS s";
}

}  // namespace glue
}  // namespace pgfraud
