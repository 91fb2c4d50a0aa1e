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
  MarkGUCPrefixReserved("pg_fraud");
  pgfraud::glue::RegisterModelCacheCallback();
  pgfraud::glue::RegisterHandoverCleanup();
}

}  // extern "C"
