// Error types of the pg_fraud core. The glue maps each ErrorCode to a SQLSTATE.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace pgfraud {

// What went wrong, independent of PostgreSQL; the glue owns the SQLSTATE mapping.
enum class ErrorCode {
  kInvalidParameterValue,      // 22023: a value of the wrong shape or kind
  kInvalidTextRepresentation,  // 22P02: a string that is not a number, boolean or date
  kNumericValueOutOfRange,     // 22003: beyond float8, or not finite
  kInvalidModelDocument,       // 22023: a model document that fails validation
  kUndefinedObject,            // 42704: a model that does not exist
  kDatatypeMismatch,           // 42804: a column of a type the model cannot use
  kUndefinedColumn,            // 42703: a feature column missing from a row type
  kDataException,              // 22000: training data that cannot give a model
  kOutOfMemory,                // 53200
  kFeatureNotSupported,        // 0A000: a capability this installation lacks (libxgboost)
  kExternalRoutine,            // 38000: a library pg_fraud calls failed (XGBoost)
  kInternal,                   // XX000: a bug
};

// An error raised by the core; the message names the feature and the problem, never a value.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string detail = std::string())
      : std::runtime_error(message), code_(code), detail_(std::move(detail)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  ErrorCode code_;
  std::string detail_;
};

// The outcome of classifying an in-flight exception: code, message and detail.
struct ErrorInfo {
  ErrorCode code;
  std::string message;
  std::string detail;
};

// Classifies any exception (ours, the standard library's, nlohmann's, unknown) into an ErrorInfo.
ErrorInfo Classify(std::exception_ptr error) noexcept;

}  // namespace pgfraud
