// Classified C++ exceptions become ereport(ERROR) with the mapped SQLSTATE.
#include "guard.hpp"

#include <cstring>

#include "common/errors.hpp"

namespace pgfraud {
namespace glue {
namespace {

// The stashed error: static storage, so that nothing needs freeing when ereport jumps away.
struct StashedError {
  int sqlstate;
  char message[1024];
  char detail[1024];
  ErrorData* pg_error;  // set when the exception was a PostgreSQL error
};
StashedError g_stash;

int SqlState(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidParameterValue: return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorCode::kInvalidTextRepresentation: return ERRCODE_INVALID_TEXT_REPRESENTATION;
    case ErrorCode::kNumericValueOutOfRange: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
    case ErrorCode::kInvalidModelDocument: return ERRCODE_INVALID_PARAMETER_VALUE;
    case ErrorCode::kUndefinedObject: return ERRCODE_UNDEFINED_OBJECT;
    case ErrorCode::kDatatypeMismatch: return ERRCODE_DATATYPE_MISMATCH;
    case ErrorCode::kUndefinedColumn: return ERRCODE_UNDEFINED_COLUMN;
    case ErrorCode::kDataException: return ERRCODE_DATA_EXCEPTION;
    case ErrorCode::kOutOfMemory: return ERRCODE_OUT_OF_MEMORY;
    case ErrorCode::kFeatureNotSupported: return ERRCODE_FEATURE_NOT_SUPPORTED;
    case ErrorCode::kExternalRoutine: return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
    case ErrorCode::kInternal: return ERRCODE_INTERNAL_ERROR;
  }
  return ERRCODE_INTERNAL_ERROR;
}

void CopyText(char* target, size_t size, const std::string& text) noexcept {
  size_t n = text.size() < size - 1 ? text.size() : size - 1;
  std::memcpy(target, text.data(), n);
  target[n] = '\0';
}

}  // namespace

ErrorSummary Summarize(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const PgException& e) {
    const int code = e.data()->sqlerrcode;
    FreeErrorData(e.data());
    return ErrorSummary{code, std::string("PostgreSQL error ") + unpack_sql_state(code)};
  } catch (...) {
  }
  ErrorInfo info = Classify(error);
  return ErrorSummary{SqlState(info.code), info.message.empty() ? "out of memory" : info.message};
}

void StashError(std::exception_ptr error) noexcept {
  g_stash.pg_error = nullptr;
  try {
    std::rethrow_exception(error);
  } catch (const PgException& e) {
    g_stash.pg_error = e.data();
    return;
  } catch (...) {
  }
  ErrorInfo info = Classify(error);
  g_stash.sqlstate = SqlState(info.code);
  CopyText(g_stash.message, sizeof g_stash.message, info.message.empty() ? "out of memory" : info.message);
  CopyText(g_stash.detail, sizeof g_stash.detail, info.detail);
}

void RaiseStashedError() {
  if (g_stash.pg_error != nullptr) ReThrowError(g_stash.pg_error);
  ereport(ERROR, (errcode(g_stash.sqlstate), errmsg("%s", g_stash.message),
                  g_stash.detail[0] != '\0' ? errdetail("%s", g_stash.detail) : 0));
  pg_unreachable();
}

}  // namespace glue
}  // namespace pgfraud
