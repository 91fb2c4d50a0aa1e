// The boundary between C++ and PostgreSQL error handling (docs/architecture.md).
//
// Guard() runs a C++ body; any exception is classified, its text copied out, every C++
// object destroyed, and only then is ereport(ERROR) raised from a frame that owns nothing.
// PgCall() runs PostgreSQL code from C++; an ereport inside it becomes a PgException, so
// the unwinding runs destructors, and Guard re-raises the original error unchanged.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// A PostgreSQL error caught by PgCall, carried through C++ frames to Guard.
class PgException : public std::exception {
 public:
  explicit PgException(ErrorData* data) noexcept : data_(data) {}
  ErrorData* data() const noexcept { return data_; }
  const char* what() const noexcept override { return "PostgreSQL error"; }

 private:
  ErrorData* data_;  // palloc'd in the caller's memory context
};

// An exception's SQLSTATE and a message fit for a WARNING or a log table: pg_fraud's own
// message (it never holds a value), or for a PostgreSQL error only its SQLSTATE (PostgreSQL's
// messages may quote the value that failed). Frees a PgException's ErrorData.
struct ErrorSummary {
  int sqlstate;
  std::string message;
};
ErrorSummary Summarize(std::exception_ptr error);

// Stores the in-flight exception's SQLSTATE and text in static storage; never throws.
void StashError(std::exception_ptr error) noexcept;

// Raises the stashed error with ereport; call only from a frame with no live C++ objects.
[[noreturn]] void RaiseStashedError();

// Runs body() and returns its Datum, turning any exception into a PostgreSQL error.
template <typename Body>
Datum Guard(Body&& body) {
  try {
    return body();
  } catch (...) {
    StashError(std::current_exception());
  }
  RaiseStashedError();
}

// Runs PostgreSQL code that may ereport; an error comes back as a thrown PgException. A C++
// exception thrown by fn (bad_alloc of a string built there, say) is caught inside PG_TRY and
// rethrown after PG_END_TRY: leaving PG_TRY by a C++ throw would leave PostgreSQL's exception
// stack pointing at a dead frame, and the next ereport would jump into it.
template <typename Fn>
auto PgCall(Fn&& fn) -> decltype(fn()) {
  using Result = decltype(fn());
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile error = nullptr;
  std::exception_ptr cxx_error;
  std::exception_ptr* volatile cxx_slot = &cxx_error;  // written inside PG_TRY: through memory
  if constexpr (std::is_void_v<Result>) {
    PG_TRY();
    {
      try {
        fn();
      } catch (...) {
        *cxx_slot = std::current_exception();
      }
    }
    PG_CATCH();
    {
      MemoryContextSwitchTo(caller_context);
      error = CopyErrorData();
      FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr) throw PgException(error);
    if (cxx_error) std::rethrow_exception(cxx_error);
  } else {
    Result result{};
    Result* volatile slot = &result;
    PG_TRY();
    {
      try {
        *slot = fn();
      } catch (...) {
        *cxx_slot = std::current_exception();
      }
    }
    PG_CATCH();
    {
      MemoryContextSwitchTo(caller_context);
      error = CopyErrorData();
      FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr) throw PgException(error);
    if (cxx_error) std::rethrow_exception(cxx_error);
    return result;
  }
}

}  // namespace glue
}  // namespace pgfraud
