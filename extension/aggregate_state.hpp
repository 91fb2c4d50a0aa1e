// C++ aggregate states owned by the aggregate's memory context.
#pragma once

#include <memory>
#include <string>

#include "common/errors.hpp"
#include "guard.hpp"

namespace pgfraud {
namespace glue {

// A new State, deleted by a reset callback when the aggregate context goes: an error or a
// cancel in the middle of a query leaks nothing.
template <typename State>
State* NewAggregateState(MemoryContext aggregate_context) {
  auto state = std::make_unique<State>();
  PgCall([&] {
    auto* callback =
        static_cast<MemoryContextCallback*>(MemoryContextAlloc(aggregate_context, sizeof(MemoryContextCallback)));
    callback->func = [](void* arg) { delete static_cast<State*>(arg); };
    callback->arg = state.get();
    MemoryContextRegisterResetCallback(aggregate_context, callback);
  });
  return state.release();  // owned by the context from here on
}

// The aggregate context of a support function call; an error outside an aggregate.
inline MemoryContext AggregateContext(FunctionCallInfo fcinfo) {
  MemoryContext cxt;
  if (!AggCheckCallContext(fcinfo, &cxt)) {
    throw Error(ErrorCode::kInternal, "an aggregate support function of pg_fraud was called outside an aggregate");
  }
  return cxt;
}

// The combine function of a C++ state: merge(first, second) folds the second into the first.
// Either may be NULL (a worker that saw no rows); both NULL gives NULL.
template <typename State, typename Merge>
Datum CombineStates(FunctionCallInfo fcinfo, Merge merge) {
  AggregateContext(fcinfo);
  if (PG_ARGISNULL(1)) {
    if (PG_ARGISNULL(0)) {
      fcinfo->isnull = true;
      return (Datum)0;
    }
    return PG_GETARG_DATUM(0);
  }
  auto* other = reinterpret_cast<State*>(PG_GETARG_POINTER(1));
  if (PG_ARGISNULL(0)) return PointerGetDatum(other);  // created in the aggregate context already
  auto* state = reinterpret_cast<State*>(PG_GETARG_POINTER(0));
  merge(*state, *other);
  return PointerGetDatum(state);
}

// A bytea holding a kind byte then `bytes`.
inline bytea* ToBytea(char kind, const std::vector<uint8_t>& bytes) {
  return PgCall([&] {
    bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + bytes.size() + 1));
    SET_VARSIZE(out, VARHDRSZ + bytes.size() + 1);
    VARDATA(out)[0] = kind;
    memcpy(VARDATA(out) + 1, bytes.data(), bytes.size());
    return out;
  });
}

// Arguments 1 and 2 of a merge over run_command_on_shards (success, result: the state's bytea
// as text, '\x' and hex) as the bytea, read by bytea's own input function; nullptr for a shard
// without rows. A shard's failure is raised with the worker's message; `pass` names the pass.
inline bytea* ShardState(FunctionCallInfo fcinfo, const char* pass) {
  const std::string result =
      PG_ARGISNULL(2) ? std::string() : PgCall([&] { return std::string(text_to_cstring(PG_GETARG_TEXT_PP(2))); });
  if (PG_ARGISNULL(1) || !PG_GETARG_BOOL(1)) {
    throw Error(ErrorCode::kInternal, std::string(pass) + " failed on a shard: " + result,
                "pg_fraud must be installed, at the same version, on every node.");
  }
  if (result.empty()) return nullptr;
  return PgCall([&] { return DatumGetByteaPP(DirectFunctionCall1(byteain, CStringGetDatum(result.c_str()))); });
}

}  // namespace glue
}  // namespace pgfraud
