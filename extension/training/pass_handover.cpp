// One slot per backend, emptied when taken and at the end of every transaction.
#include "training/pass_handover.hpp"

#include <memory>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {
namespace {

std::unique_ptr<TrainingStats> pending;

void OnTransactionEnd(XactEvent event, void*) {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PREPARE) pending.reset();
}

}  // namespace

void HandOverStatistics(TrainingStats&& stats) {
  stats.Settle();  // as Serialize would have: the moments' last batch
  pending = std::make_unique<TrainingStats>(std::move(stats));
}

std::optional<TrainingStats> TakeStatistics() {
  if (!pending) return std::nullopt;
  std::optional<TrainingStats> stats(std::move(*pending));
  pending.reset();
  return stats;
}

void RegisterHandoverCleanup() { RegisterXactCallback(OnTransactionEnd, nullptr); }

}  // namespace glue
}  // namespace pgfraud
