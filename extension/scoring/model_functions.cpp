// SQL entry points about model documents and the cache: validation and invalidation.
#include "common/errors.hpp"
#include "guard.hpp"
#include "scoring/model_cache.hpp"
#include "model/model_document.hpp"
#include "values/time_zones.hpp"

extern "C" {

PG_FUNCTION_INFO_V1(fraud_model_validate);
// fraud_model_validate(doc jsonb) -> jsonb: the canonical document, or an error naming the problem.
Datum fraud_model_validate(PG_FUNCTION_ARGS) {
  Jsonb* doc = PG_GETARG_JSONB_P(0);
  char* text = JsonbToCString(nullptr, &doc->root, VARSIZE(doc));
  char* canonical = static_cast<char*>(DatumGetPointer(pgfraud::glue::Guard([&] {
    const pgfraud::Model model = pgfraud::ParseModelDocument(text);
    if (!model.time_zone.empty()) (void)pgfraud::glue::ZoneNamed(model.time_zone);  // one PostgreSQL knows
    std::string out = pgfraud::ModelToJson(model).dump();
    return pgfraud::glue::PgCall([&] { return PointerGetDatum(pstrdup(out.c_str())); });
  })));
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(canonical));
}

PG_FUNCTION_INFO_V1(fraud_models_changed);
// Statement trigger on fraud_models and fraud_rules: a relcache invalidation, delivered to
// every backend at commit. On a Citus node the trigger fires on the node's placement of the
// reference table (fraud_distribute_models), so the tables the cache watches, fraud_models and
// fraud_rules of the function's schema, are invalidated by name too.
Datum fraud_models_changed(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("fraud_models_changed must be called as a trigger")));
  }
  TriggerData* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  const Oid changed = RelationGetRelid(trigger->tg_relation);
  CacheInvalidateRelcacheByRelid(changed);
  const Oid schema = get_func_namespace(fcinfo->flinfo->fn_oid);
  for (const char* table : {"fraud_models", "fraud_rules"}) {
    const Oid relid = get_relname_relid(table, schema);
    if (OidIsValid(relid) && relid != changed) CacheInvalidateRelcacheByRelid(relid);
  }
  return PointerGetDatum(nullptr);
}

PG_FUNCTION_INFO_V1(fraud_debug_throw);
// fraud_debug_throw(kind text): raises a C++ exception of the named kind through the guard.
// Not part of the SQL surface; the regression test declares it to prove the guard works.
Datum fraud_debug_throw(PG_FUNCTION_ARGS) {
  text* kind_text = PG_GETARG_TEXT_PP(0);
  std::string_view kind(VARDATA_ANY(kind_text), VARSIZE_ANY_EXHDR(kind_text));
  return pgfraud::glue::Guard([&]() -> Datum {
    std::string owned("a string whose destructor must run");
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "runtime_error") throw std::runtime_error("simulated failure");
    if (kind == "invalid_argument") throw std::invalid_argument("simulated invalid argument");
    if (kind == "pg_error") {
      pgfraud::glue::PgCall([] { return DirectFunctionCall1(int4in, CStringGetDatum("not a number")); });
    }
    if (kind == "int") throw 42;
    return PointerGetDatum(cstring_to_text(owned.c_str()));
  });
}

}  // extern "C"
