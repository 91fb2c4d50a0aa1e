// Module entry: the magic block, GUC prefix reservation and the model cache callback.
#include "model_cache.hpp"
#include "pg_headers.hpp"

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

// Called once per backend when the library is loaded.
void _PG_init(void) {
  MarkGUCPrefixReserved("pg_fraud");
  pgfraud::glue::RegisterModelCacheCallback();
}

}  // extern "C"
