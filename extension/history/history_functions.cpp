// fraud_history_source: how evaluation, threshold choice and drift read a source, so that a
// model with history features sees each row with its history as of its own time.
#include <string>

#include "citus/citus_catalog.hpp"
#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_sql.hpp"
#include "scoring/model_cache.hpp"
#include "training/distributed_source.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace pgfraud {
namespace glue {
namespace {

// The source's name, or the featurising query over it (in parentheses) for a history model.
Datum HistorySource(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) throw Error(ErrorCode::kInvalidParameterValue, "arguments must not be null");
  const Oid relid = PG_GETARG_OID(0);
  const std::string name = PgCall([&] { return std::string(text_to_cstring(PG_GETARG_TEXT_PP(1))); });
  // The active version, or the stored version a third argument names.
  const bool versioned = PG_NARGS() > 2 && !PG_ARGISNULL(2);
  const CachedModel& model = versioned ? ModelVersion(fcinfo->flinfo->fn_oid, name, PG_GETARG_INT32(2))
                                       : ActiveModel(fcinfo->flinfo->fn_oid, name);
  const std::string source = PgCall([&] {
    const char* rel = get_rel_name(relid);
    if (rel == nullptr) ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the source does not exist")));
    return std::string(quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel));
  });
  std::string out = source;
  if (model.model.history) {
    const HistoryColumns checked = DescribeHistoryColumns(relid, *model.model.history);
    (void)checked;
    const std::string schema = PgCall(
        [&] { return std::string(quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)))); });
    out = "(" + FeaturisingQuery(schema, source, *model.model.history) + ")";
  }
  return PgCall([&] { return PointerGetDatum(cstring_to_text(out.c_str())); });
}

// NULL, or for an active history model over a Citus table whose entities' rows are each on one
// shard (HistoryIsShardLocal) the featurising query as a fraud_node_commands template: the
// relation at %2$s, every other '%' doubled. Each node then computes its rows' history.
Datum HistoryNodeSource(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  const Oid relid = PG_GETARG_OID(0);
  const std::string name = PgCall([&] { return std::string(text_to_cstring(PG_GETARG_TEXT_PP(1))); });
  const CachedModel& model = ActiveModel(fcinfo->flinfo->fn_oid, name);
  if (!model.model.history) PG_RETURN_NULL();
  const HistorySpec spec = *model.model.history;
  const bool local = PgCall([&] {
    if (!IsCitusTable(relid)) return false;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_fraud: SPI_connect failed");
    const bool answer = HistoryIsShardLocal(relid, spec.by);
    SPI_finish();
    return answer;
  });
  if (!local) PG_RETURN_NULL();
  const std::string schema = PgCall(
      [&] { return std::string(quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)))); });
  const std::string relation = "\x01shards\x01";
  const std::string out = NodeTemplate("(" + FeaturisingQuery(schema, relation, spec) + ")", "", relation);
  return PgCall([&] { return PointerGetDatum(cstring_to_text(out.c_str())); });
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

extern "C" {

PG_FUNCTION_INFO_V1(fraud_history_node_source);
// fraud_history_node_source(source regclass, model text) -> text: a per-node template, or NULL.
Datum fraud_history_node_source(PG_FUNCTION_ARGS) {
  return pgfraud::glue::Guard([&] { return pgfraud::glue::HistoryNodeSource(fcinfo); });
}

PG_FUNCTION_INFO_V1(fraud_history_source);
// fraud_history_source(source regclass, model text[, version integer]) -> text: a FROM item.
Datum fraud_history_source(PG_FUNCTION_ARGS) {
  return pgfraud::glue::Guard([&] { return pgfraud::glue::HistorySource(fcinfo); });
}

}  // extern "C"
