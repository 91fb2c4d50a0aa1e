// The rows a statistics pass kept in memory, handed from the aggregate's final function to
// train_fraud_model in the same backend, instead of through the pass's bytea result (which
// would copy them four times and is limited to 1 GB).
#pragma once

#include "row_store.hpp"

namespace pgfraud {
namespace glue {

// Called by the final function of a statistics pass: holds `store` until taken.
void HandOverStoredRows(RowStore&& store);
// The rows of the last statistics pass of this backend (an empty store when none).
RowStore TakeStoredRows();
// Frees rows never taken (an error between the pass and its reader); at transaction end.
void RegisterStoredRowsCleanup();

}  // namespace glue
}  // namespace pgfraud
