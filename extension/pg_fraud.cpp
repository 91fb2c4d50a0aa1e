// Module entry: the magic block, GUC prefix reservation, the model cache callback and the
// cleanup of training statistics never taken.
#include "scoring/model_cache.hpp"
#include "training/pass_handover.hpp"
#include "pg_headers.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

// Called once per backend when the library is loaded.
void _PG_init(void) {
  static bool strict_rules = false;  // read by fraud_rules_check (SQL) through current_setting
  DefineCustomBoolVariable("pg_fraud.strict_rules",
                           "Refuses rules that read a key no feature of their model and no column of its attached tables has.",
                           "Off: such a rule is stored with a WARNING.", &strict_rules, false, PGC_USERSET, 0, nullptr,
                           nullptr, nullptr);
  MarkGUCPrefixReserved("pg_fraud");
  pgfraud::glue::RegisterModelCacheCallback();
  pgfraud::glue::RegisterHandoverCleanup();
}

}  // extern "C"
