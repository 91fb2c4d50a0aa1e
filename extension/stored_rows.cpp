// One slot per backend: the final function of a statistics pass runs in the backend that
// called train_fraud_model (a parallel plan finalises in the leader).
#include "stored_rows.hpp"

#include <memory>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {
namespace {

std::unique_ptr<RowStore> pending;

void OnTransactionEnd(XactEvent event, void*) {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE) pending.reset();
}

}  // namespace

void HandOverStoredRows(RowStore&& store) { pending = std::make_unique<RowStore>(std::move(store)); }

RowStore TakeStoredRows() {
  if (!pending) return RowStore();
  RowStore store = std::move(*pending);
  pending.reset();
  return store;
}

void RegisterStoredRowsCleanup() { RegisterXactCallback(OnTransactionEnd, nullptr); }

}  // namespace glue
}  // namespace pgfraud
