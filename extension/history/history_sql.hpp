// The SQL side of history features: checking the declared columns against a relation,
// window lengths from interval text, and the query text training and scoring run.
#pragma once

#include <string>
#include <vector>

#include "history/history_spec.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// A declared column of the history relation: its name, type and typmod.
struct HistoryColumn {
  std::string name;
  Oid type = InvalidOid;
  int32 typmod = -1;
};

// The relation's columns for a declaration, checked: each exists (42703) and has a usable
// type (42804): entities and new/distinct columns are integers, text, uuid, enums (or
// booleans for new/distinct), time is a timestamp, timestamptz or date, amounts numbers.
struct HistoryColumns {
  std::vector<HistoryColumn> by;
  HistoryColumn time;
  std::vector<HistoryColumn> amounts, distinct, fresh;
};
HistoryColumns DescribeHistoryColumns(Oid relid, const HistorySpec& spec);

// The length of a window given as interval text, in microseconds; 22023 for text that is
// not an interval, a non-positive one, or one with months or years (not a fixed length).
int64_t WindowLength(const std::string& text);

// `expr` (a time) as integer microseconds since the epoch, whatever the session's TimeZone.
std::string MicrosExpr(const std::string& expr);

// A time datum (timestamp, timestamptz or date) as microseconds since the Unix epoch (a
// timestamp without time zone read as UTC), as MicrosExpr computes it; false for a value
// that is not finite (+-infinity), which has no history and is in no history.
bool TimeMicros(Oid type, Datum value, int64_t* out);

// The value of time type `type` at microseconds `micros` (TimeMicros' inverse); a date is the
// first whole day at or after it.
Datum MicrosTime(Oid type, int64_t micros);

// A query over `source` (a table name) returning its rows with every history feature as a
// float8 column named as the feature (FeatureNames): the window function per entity.
std::string FeaturisingQuery(const std::string& schema, const std::string& source, const HistorySpec& spec);

// The OID of a relation named by qualified (or search_path) text, locked AccessShareLock;
// PostgreSQL's error (42P01) when there is none, as a PgException.
Oid RelationByName(const std::string& name);

// The quoted identifier of a name.
std::string Ident(const std::string& name);

}  // namespace glue
}  // namespace pgfraud
