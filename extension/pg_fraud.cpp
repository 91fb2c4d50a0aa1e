// Module entry: the magic block, GUC prefix reservation, the model cache callback and the
// cleanup of training statistics never taken.
#include "scoring/model_cache.hpp"
#include "training/pass_handover.hpp"
#include "values/jsonb_values.hpp"
#include "pg_headers.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

// Called once per backend when the library is loaded.
void _PG_init(void) {
  static bool strict_rules = false;  // read by fraud_rules_check (SQL) through current_setting
  DefineCustomBoolVariable(
      "pg_fraud.strict_rules",
      "Refuses rules that read a key no feature of their model and no column of its attached tables has.",
      "Off: such a rule is stored with a WARNING.", &strict_rules, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  static const struct config_enum_entry kUnknownKeys[] = {
      {"ignore", static_cast<int>(pgfraud::glue::UnknownKeys::kIgnore), false},
      {"warning", static_cast<int>(pgfraud::glue::UnknownKeys::kWarning), false},
      {"error", static_cast<int>(pgfraud::glue::UnknownKeys::kError), false},
      {nullptr, 0, false}};
  DefineCustomEnumVariable(
      "pg_fraud.unknown_keys",
      "What scoring a jsonb transaction does about keys that are no feature of the model and features without a key.",
      "ignore (missing features are imputed, other keys ignored), warning, or error.", &pgfraud::glue::g_unknown_keys,
      static_cast<int>(pgfraud::glue::UnknownKeys::kIgnore), kUnknownKeys, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("pg_fraud");
  pgfraud::glue::RegisterModelCacheCallback();
  pgfraud::glue::RegisterHandoverCleanup();
}

}  // extern "C"
