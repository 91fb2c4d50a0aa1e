// History lookups through SPI: two prepared queries per entity (a summary: the current
// row's time and amounts, the first and last earlier times, whether each new-column value
// was seen; and the earlier rows inside the longest window), then ComputeEntityFeatures.
// Plans are prepared once per relation, declaration and argument types, and kept.
#include "history/history_lookup.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_features.hpp"
#include "history/history_index_scan.hpp"
#include "history/history_sql.hpp"
#include "scoring/model_cache.hpp"

namespace pgfraud {
namespace glue {
namespace {

// Lock buckets per relation: entities share 1024 advisory locks, so a load of any number of
// entities in one transaction holds at most 1024 locks (the lock table stays bounded).
constexpr uint32 kLockBuckets = 1024;

struct EntityPlans {
  SPIPlanPtr summary = nullptr;
  SPIPlanPtr rows = nullptr;
};

std::map<std::string, EntityPlans> g_plans;  // plans live in CacheMemoryContext (SPI_keepplan)

// The SQL text of one entity's two queries; `in` gives the input expressions: entity, time,
// amounts, new values.
// The time column's type name, to read the row's own time in it.
std::string TimeType(const HistoryColumns& cols) {
  return PgCall([&] { return std::string(format_type_be_qualified(cols.time.type)); });
}

std::pair<std::string, std::string> EntityQueries(const HistorySpec& spec, const HistoryColumns& cols, size_t e,
                                                  const std::string& rel, const std::vector<std::string>& in) {
  const std::string by = "h." + Ident(spec.by[e]), t = "h." + Ident(spec.time);
  const std::string& E = in[0];
  const std::string& T = in[1];
  // Rows at -infinity are in no history (training's sweep skips them too).
  const std::string earlier = " FROM " + rel + " AS h WHERE " + by + " OPERATOR(pg_catalog.=) " + E + " AND " + t +
                              " OPERATOR(pg_catalog.<) " + T + " AND pg_catalog.isfinite(" + t + ")";
  // Times come back as they are stored and are turned into microseconds in C (TimeMicros):
  // numeric arithmetic per row cost more than the lookup.
  std::string summary = "SELECT (" + T + ")::" + TimeType(cols) + ", (SELECT pg_catalog.min(" + t + ")" + earlier +
                        "), (SELECT pg_catalog.max(" + t + ")" + earlier + ")";
  const size_t na = spec.amounts.size();
  for (size_t a = 0; a < na; ++a) summary += ", (" + in[2 + a] + ")::pg_catalog.float8";
  for (size_t n = 0; n < spec.fresh.size(); ++n) {
    const std::string v = "(" + in[2 + na + n] + ")::pg_catalog.text";
    // Equality in the column's type (an index on (entity, column) serves it): for the types a
    // new column may have, the same as equality of their text, which training compares.
    summary += ", CASE WHEN " + v + " IS NULL THEN NULL ELSE EXISTS (SELECT" + earlier + " AND h." +
               Ident(spec.fresh[n]) + " OPERATOR(pg_catalog.=) " + in[2 + na + n] + ") END";
  }
  summary += ", (" + E + ") IS NULL";
  std::string rows;
  if (!spec.windows.empty()) {
    // One second wider than the longest window: ComputeEntityFeatures cuts each window
    // exactly, in microseconds, as training's sweep does.
    const std::string secs = std::to_string(spec.LongestWindow() / 1000000 + 1);
    rows = "SELECT " + t;
    for (const std::string& a : spec.amounts) rows += ", h." + Ident(a) + "::pg_catalog.float8";
    for (const std::string& d : spec.distinct) rows += ", h." + Ident(d) + "::pg_catalog.text";
    rows += earlier + " AND " + t + " OPERATOR(pg_catalog.>=) (" + T +
            " OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => " + secs + ")) ORDER BY " + t;
  }
  return {summary, rows};
}

SPIPlanPtr Prepare(const std::string& sql, const std::vector<Oid>& types) {
  if (sql.empty()) return nullptr;
  return PgCall([&] {
    SPIPlanPtr plan = SPI_prepare(sql.c_str(), static_cast<int>(types.size()), const_cast<Oid*>(types.data()));
    if (plan == nullptr)
      elog(ERROR, "pg_fraud: preparing a history lookup failed: %s", SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
    return plan;
  });
}

// What one entity's lookup found.
struct Found {
  bool missing = true;  // NULL entity or time: every feature missing
  CurrentRow row;
  EntityPast past;
};

// A time column of a lookup's result in microseconds; *isnull also for a value not finite.
int64 Micros(HeapTuple tuple, TupleDesc desc, int col, bool* isnull) {
  Datum d = SPI_getbinval(tuple, desc, col, isnull);
  int64_t out = 0;
  if (!*isnull && !TimeMicros(TupleDescAttr(desc, col - 1)->atttypid, d, &out)) *isnull = true;
  return out;
}

// Runs one entity's two plans with the given arguments (PostgreSQL code: inside PgCall).
// `read_only` false (the trigger): each query sees the rows its own statement inserted before.
void RunEntity(const HistorySpec& spec, const EntityPlans& plans, Datum* args, const char* nulls, bool read_only,
               Found* f) {
  const size_t na = spec.amounts.size(), nd = spec.distinct.size(), nn = spec.fresh.size();
  if (SPI_execute_plan(plans.summary, args, nulls, read_only, 1) != SPI_OK_SELECT || SPI_processed != 1) {
    elog(ERROR, "pg_fraud: history summary lookup returned no row");
  }
  HeapTuple s = SPI_tuptable->vals[0];
  TupleDesc sd = SPI_tuptable->tupdesc;
  bool isnull;
  const int64 now = Micros(s, sd, 1, &isnull);
  bool entity_null;
  Datum en = SPI_getbinval(s, sd, 4 + static_cast<int>(na + nn), &entity_null);
  if (isnull || DatumGetBool(en)) return;
  f->missing = false;
  f->row.time = now;
  bool no_first, no_last;
  f->past.first_time = Micros(s, sd, 2, &no_first);
  f->past.last_time = Micros(s, sd, 3, &no_last);
  f->past.has_earlier = !no_first && !no_last;
  f->row.amounts.assign(na, NAN);
  for (size_t a = 0; a < na; ++a) {
    Datum d = SPI_getbinval(s, sd, 4 + static_cast<int>(a), &isnull);
    if (!isnull) f->row.amounts[a] = DatumGetFloat8(d);
  }
  f->past.seen.assign(nn, -1);
  for (size_t n = 0; n < nn; ++n) {
    Datum d = SPI_getbinval(s, sd, 4 + static_cast<int>(na + n), &isnull);
    if (!isnull) f->past.seen[n] = DatumGetBool(d) ? 1 : 0;
  }
  SPI_freetuptable(SPI_tuptable);
  if (plans.rows == nullptr || !f->past.has_earlier) return;
  if (SPI_execute_plan(plans.rows, args, nulls, read_only, 0) != SPI_OK_SELECT) {
    elog(ERROR, "pg_fraud: history rows lookup failed");
  }
  TupleDesc rd = SPI_tuptable->tupdesc;
  for (uint64 r = 0; r < SPI_processed; ++r) {
    HeapTuple row = SPI_tuptable->vals[r];
    const int64 time = Micros(row, rd, 1, &isnull);
    if (isnull) continue;  // -infinity: in no history
    f->past.times.push_back(time);
    for (size_t a = 0; a < na; ++a) {
      Datum d = SPI_getbinval(row, rd, 2 + static_cast<int>(a), &isnull);
      f->past.amounts.push_back(isnull ? NAN : DatumGetFloat8(d));
    }
    for (size_t d = 0; d < nd; ++d) {
      Datum v = SPI_getbinval(row, rd, 2 + static_cast<int>(na + d), &isnull);
      if (isnull) {
        f->past.distinct.emplace_back(std::nullopt);
      } else {
        f->past.distinct.emplace_back(std::string(TextDatumGetCString(v)));
      }
    }
  }
  SPI_freetuptable(SPI_tuptable);
}

// Writes one entity's computed features into the model's history features.
void Store(const Model& model, const HistorySpec& spec, size_t e, const Found& f, FeatureValue* values) {
  const size_t per = spec.FeaturesPerEntity();
  std::vector<double> out(per, NAN);
  if (!f.missing) ComputeEntityFeatures(spec, f.past, f.row, out.data());
  for (size_t i = 0; i < model.features.size(); ++i) {
    const int h = model.features[i].history;
    if (h < 0 || static_cast<size_t>(h) / per != e) continue;
    const double x = out[static_cast<size_t>(h) % per];
    if (std::isnan(x)) {
      values[i].SetMissing();
    } else {
      values[i].SetNumber(x);
    }
  }
}

std::string RelationName(Oid relid) {
  return PgCall([relid] {
    const char* name = get_rel_name(relid);
    if (name == nullptr) elog(ERROR, "pg_fraud: history relation %u does not exist", relid);
    return std::string(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name));
  });
}

AttrNumber AttributeOf(TupleDesc desc, const std::string& name) {
  if (const AttrNumber att = ExactAttribute(desc, name)) return att;
  throw Error(ErrorCode::kUndefinedColumn, "history column \"" + name + "\" does not exist in the row",
              "A model with history features reads its entity, time, amount and new columns from each row.");
}

// Runs `body` connected to SPI, as the relation's owner when asked.
template <typename Body>
void WithSpi(Oid relid, bool as_owner, Body&& body) {
  PgCall([&] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_fraud: SPI_connect failed");
  });
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  if (as_owner) {
    PgCall([&] {
      GetUserIdAndSecContext(&saved_user, &saved_context);
      HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
      if (!HeapTupleIsValid(tuple)) elog(ERROR, "pg_fraud: relation %u does not exist", relid);
      const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
      ReleaseSysCache(tuple);
      SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    });
  }
  body();  // an error aborts the (sub)transaction, which restores the user and closes SPI
  PgCall([&] {
    if (as_owner) SetUserIdAndSecContext(saved_user, saved_context);
    SPI_finish();
  });
}

// A prepared plan by its SQL text and argument types (plans outlive model cache flushes).
const EntityPlans& PlansFor(const std::string& summary, const std::string& rows, const std::vector<Oid>& types) {
  std::string key = summary + "\n" + rows;
  for (Oid t : types) key += " " + std::to_string(t);
  auto it = g_plans.find(key);
  if (it == g_plans.end()) it = g_plans.emplace(key, EntityPlans{Prepare(summary, types), Prepare(rows, types)}).first;
  return it->second;
}

// What a lookup from rows of one type needs, made once per model, relation and row type and
// kept while the model cache and every relation's shape are unchanged.
struct RowLookup {
  bool valid = false;
  uint64_t generation = 0, epoch = 0;
  bool direct_planned = false;           // the trigger's direct scans, planned on its first row
  std::vector<DirectEntityScan> direct;  // per entity; empty: the SPI lookup
  std::vector<AttrNumber> by_atts;       // per entity
  std::vector<AttrNumber> atts;          // per argument: [0] the entity (per entity), time, amounts, new columns
  std::vector<EntityPlans> plans;        // per entity
};

struct JsonbLookup {
  uint64_t generation = 0, epoch = 0;
  std::vector<EntityPlans> plans;
};

std::map<std::tuple<const Model*, Oid, Oid>, RowLookup> g_row_lookups;
std::map<std::pair<const Model*, Oid>, JsonbLookup> g_jsonb_lookups;

// The row lookup of a model, relation and row type: its column mapping, rebuilt when the
// model cache or any relation's shape changed (plans: EnsurePlans, inside SPI).
RowLookup& RowLookupFor(const Model& model, Oid relid, TupleDesc desc) {
  RowLookup& l = g_row_lookups[{&model, relid, desc->tdtypeid}];
  if (l.valid && l.generation == ModelCacheGeneration() && l.epoch == SchemaEpoch()) return l;
  const HistorySpec& spec = *model.history;
  (void)DescribeHistoryColumns(relid, spec);  // the relation has the columns, of usable types
  l = RowLookup();
  for (const std::string& b : spec.by) l.by_atts.push_back(AttributeOf(desc, b));
  l.atts.push_back(0);
  l.atts.push_back(AttributeOf(desc, spec.time));
  for (const std::string& a : spec.amounts) l.atts.push_back(AttributeOf(desc, a));
  for (const std::string& n : spec.fresh) l.atts.push_back(AttributeOf(desc, n));
  l.generation = ModelCacheGeneration();
  l.epoch = SchemaEpoch();
  l.valid = true;
  return l;
}

// The SPI lookup's prepared plans (SPI connected).
void EnsurePlans(const Model& model, Oid relid, TupleDesc desc, RowLookup* l) {
  if (!l->plans.empty()) return;
  const HistorySpec& spec = *model.history;
  const HistoryColumns cols = DescribeHistoryColumns(relid, spec);
  const std::string rel = RelationName(relid);
  std::vector<std::string> in;
  std::vector<Oid> types;
  for (size_t i = 0; i < l->atts.size(); ++i) {
    in.push_back("$" + std::to_string(i + 1));
    types.push_back(i == 0 ? InvalidOid : TupleDescAttr(desc, l->atts[i] - 1)->atttypid);
  }
  for (size_t e = 0; e < spec.by.size(); ++e) {
    types[0] = TupleDescAttr(desc, l->by_atts[e] - 1)->atttypid;
    auto [summary, rows] = EntityQueries(spec, cols, e, rel, in);
    l->plans.push_back(PlansFor(summary, rows, types));
  }
}

const JsonbLookup& JsonbLookupFor(const Model& model, Oid relid) {
  JsonbLookup& l = g_jsonb_lookups[{&model, relid}];
  if (l.generation == ModelCacheGeneration() && l.epoch == SchemaEpoch() && !l.plans.empty()) return l;
  const HistorySpec& spec = *model.history;
  const HistoryColumns cols = DescribeHistoryColumns(relid, spec);
  const std::string rel = RelationName(relid);
  auto field = [&](const HistoryColumn& c) {
    const std::string type = PgCall([&] { return std::string(format_type_with_typemod(c.type, c.typmod)); });
    const std::string key = PgCall([&] { return std::string(quote_literal_cstr(c.name.c_str())); });
    return "(($1 OPERATOR(pg_catalog.->>) " + key + "::pg_catalog.text)::" + type + ")";
  };
  l = JsonbLookup();
  for (size_t e = 0; e < spec.by.size(); ++e) {
    std::vector<std::string> in = {field(cols.by[e]), field(cols.time)};
    for (const HistoryColumn& a : cols.amounts) in.push_back(field(a));
    for (const HistoryColumn& n : cols.fresh) in.push_back(field(n));
    auto [summary, rows] = EntityQueries(spec, cols, e, rel, in);
    l.plans.push_back(PlansFor(summary, rows, {JSONBOID}));
  }
  l.generation = ModelCacheGeneration();
  l.epoch = SchemaEpoch();
  return l;
}

}  // namespace

Oid HistoryRelation(const Model& model) {
  const std::string& name = model.history->relation;
  if (name.empty()) {
    throw Error(ErrorCode::kInvalidModelDocument, "the model's history names no relation to read history from",
                "Set \"relation\" in the document's \"history\" object to the table holding past transactions.");
  }
  try {
    return RelationByName(name);
  } catch (const PgException&) {
    throw Error(ErrorCode::kUndefinedObject, "the model's history relation does not exist",
                "The model reads history from the table it was trained on; import it with another \"relation\".");
  }
}

// The trigger's direct scans for every entity, when the relation allows them all.
void PlanDirect(const HistorySpec& spec, Oid relid, TupleDesc desc, RowLookup* l) {
  l->direct_planned = true;
  std::vector<Oid> fresh_types;
  for (size_t n = 0; n < spec.fresh.size(); ++n)
    fresh_types.push_back(TupleDescAttr(desc, l->atts[2 + spec.amounts.size() + n] - 1)->atttypid);
  const Oid time_type = TupleDescAttr(desc, l->atts[1] - 1)->atttypid;
  std::vector<DirectEntityScan> plans(spec.by.size());
  for (size_t e = 0; e < spec.by.size(); ++e) {
    const Oid entity_type = TupleDescAttr(desc, l->by_atts[e] - 1)->atttypid;
    if (!PgCall([&] { return PlanDirectScan(relid, spec, e, entity_type, time_type, fresh_types, &plans[e]); })) return;
  }
  l->direct = std::move(plans);
}

// One entity's history by the direct scans (the row's own values: `datums` of `desc`).
void DirectEntity(const HistorySpec& spec, const RowLookup& l, size_t e, TupleDesc desc, const Datum* datums,
                  const bool* nulls, Found* found, DirectScratch* scratch) {
  const AttrNumber by = l.by_atts[e], time_att = l.atts[1];
  if (nulls[by - 1] || nulls[time_att - 1]) return;  // no history
  const Oid time_type = TupleDescAttr(desc, time_att - 1)->atttypid;
  int64_t now = 0;
  if (!TimeMicros(time_type, datums[time_att - 1], &now)) return;
  const size_t na = spec.amounts.size(), nn = spec.fresh.size();
  found->missing = false;
  found->row.time = now;
  found->row.amounts.assign(na, NAN);
  std::vector<Datum> fresh(nn + 1);
  std::vector<uint8_t> fresh_nulls(nn + 1, 1);
  for (size_t n = 0; n < nn; ++n) {
    const AttrNumber a = l.atts[2 + na + n];
    fresh[n] = datums[a - 1];
    fresh_nulls[n] = nulls[a - 1];
  }
  PgCall([&] {
    for (size_t a = 0; a < na; ++a) {
      const AttrNumber att = l.atts[2 + a];
      if (!nulls[att - 1])
        found->row.amounts[a] = AmountValue(getBaseType(TupleDescAttr(desc, att - 1)->atttypid), datums[att - 1]);
    }
    DirectScan(l.direct[e], spec, datums[by - 1], datums[time_att - 1], now, fresh.data(),
               reinterpret_cast<const bool*>(fresh_nulls.data()), scratch, &found->past);
  });
}

void FillHistoryFromRow(const Model& model, Oid relid, TupleDesc desc, const Datum* datums, const bool* nulls,
                        FeatureValue* values, LookupMode mode) {
  const HistorySpec& spec = *model.history;
  if (mode.lock) {  // the trigger: B-tree scans of the table when it has the indexes
    RowLookup& lookup = RowLookupFor(model, relid, desc);
    if (!lookup.direct_planned) PlanDirect(spec, relid, desc, &lookup);
    if (!lookup.direct.empty()) {
      DirectScratch scratch;
      for (size_t e = 0; e < spec.by.size(); ++e) {
        Found found;
        DirectEntity(spec, lookup, e, desc, datums, nulls, &found, &scratch);
        Store(model, spec, e, found, values);
      }
      return;
    }
  }
  WithSpi(relid, mode.as_owner, [&] {
    RowLookup& lookup = RowLookupFor(model, relid, desc);
    EnsurePlans(model, relid, desc, &lookup);  // prepares plans: connected
    std::vector<Datum> args(lookup.atts.size());
    std::string arg_nulls(lookup.atts.size(), ' ');
    for (size_t i = 1; i < lookup.atts.size(); ++i) {
      args[i] = datums[lookup.atts[i] - 1];
      arg_nulls[i] = nulls[lookup.atts[i] - 1] ? 'n' : ' ';
    }
    for (size_t e = 0; e < spec.by.size(); ++e) {
      const AttrNumber by = lookup.by_atts[e];
      args[0] = datums[by - 1];
      arg_nulls[0] = nulls[by - 1] ? 'n' : ' ';
      Found found;
      PgCall([&] { RunEntity(spec, lookup.plans[e], args.data(), arg_nulls.c_str(), !mode.lock, &found); });
      Store(model, spec, e, found, values);
    }
  });
}

void FillStoredRowHistory(const Model& model, HeapTupleHeader row, const RowReader& reader, FeatureValue* values) {
  bool absent = false;
  for (size_t i = 0; i < model.features.size(); ++i) absent = absent || reader.plans[i].attnum == 0;
  if (!absent) return;
  const Oid relid = PgCall([&] { return get_typ_typrelid(HeapTupleHeaderGetTypeId(row)); });
  if (!OidIsValid(relid)) {
    throw Error(ErrorCode::kUndefinedColumn, "a model with history features scores rows of a table",
                "Pass a table's row, e.g. fraud_score(t) FROM tx AS t, or a jsonb transaction.");
  }
  FillHistoryFromRow(model, relid, reader.desc, reader.datums, reader.nulls, values, {false, false});
}

void FillHistoryFromJsonb(const Model& model, Oid relid, Jsonb* tx, FeatureValue* values) {
  const HistorySpec& spec = *model.history;
  Datum args[1] = {PointerGetDatum(tx)};
  WithSpi(relid, false, [&] {
    const JsonbLookup& lookup = JsonbLookupFor(model, relid);  // prepares plans: connected
    for (size_t e = 0; e < spec.by.size(); ++e) {
      Found found;
      try {
        PgCall([&] { RunEntity(spec, lookup.plans[e], args, " ", true, &found); });
      } catch (const PgException&) {
        // The cast of a key's text to its column's type failed; the value stays out of the message.
        throw Error(
            ErrorCode::kInvalidTextRepresentation, "a history key of the transaction does not fit its column's type",
            "The transaction's entity, time, amount and new-column keys must read as the history table's columns.");
      }
      Store(model, spec, e, found, values);
    }
  });
}

namespace {

// The hash of an entity's text (its type's output). Integers and text are hashed from the
// same characters without calling their output functions, so every column type giving an
// entity the same text (an int4 table and an int8 table behind one history view) takes the
// same bucket. PostgreSQL code.
uint32 EntityTextHash(Oid type, Datum value) {
  auto hash = [](const char* text, size_t length) {
    return static_cast<uint32>(hash_bytes(reinterpret_cast<const unsigned char*>(text), static_cast<int>(length)));
  };
  char digits[24];
  switch (type) {
    case INT2OID:
    case INT4OID:
    case INT8OID: {
      const int64 n = type == INT8OID   ? DatumGetInt64(value)
                      : type == INT4OID ? DatumGetInt32(value)
                                        : DatumGetInt16(value);
      return hash(digits, static_cast<size_t>(pg_lltoa(n, digits)));
    }
    case TEXTOID:
    case VARCHAROID: {
      struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
      return hash(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
    }
    default: {
      Oid output;
      bool varlena;
      getTypeOutputInfo(type, &output, &varlena);
      const char* text = OidOutputFunctionCall(output, value);
      return hash(text, strlen(text));
    }
  }
}

}  // namespace

void LockEntities(const Model& model, Oid relid, HeapTuple tuple, TupleDesc desc) {
  std::vector<uint32> buckets;
  for (const std::string& b : model.history->by) {
    const AttrNumber att = AttributeOf(desc, b);
    bool isnull;
    const Datum value = PgCall([&] { return heap_getattr(tuple, att, desc, &isnull); });
    if (isnull) continue;  // a NULL entity has no history to serialise
    const uint32 hash =
        PgCall([&] { return EntityTextHash(getBaseType(TupleDescAttr(desc, att - 1)->atttypid), value); });
    buckets.push_back(hash % kLockBuckets);
  }
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  PgCall([&] {
    for (uint32 bucket : buckets) {
      LOCKTAG tag;
      SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, relid, bucket, 2);
      (void)LockAcquire(&tag, ExclusiveLock, false, false);
    }
  });
}

HeapTuple StampTime(const Model& model, HeapTuple tuple, TupleDesc desc) {
  const AttrNumber att = AttributeOf(desc, model.history->time);
  return PgCall([&] {
    bool isnull;
    (void)heap_getattr(tuple, att, desc, &isnull);
    const Oid type = TupleDescAttr(desc, att - 1)->atttypid;
    if (!isnull || (type != TIMESTAMPTZOID && type != TIMESTAMPOID)) return tuple;
    const TimestampTz now = GetCurrentTimestamp();
    Datum value = type == TIMESTAMPTZOID ? TimestampTzGetDatum(now)
                                         : DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(now));
    int column = att;
    bool null = false;
    return heap_modify_tuple_by_cols(tuple, desc, 1, &column, &value, &null);
  });
}

}  // namespace glue
}  // namespace pgfraud
