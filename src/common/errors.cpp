// Classification of exceptions into ErrorInfo, so the glue needs one catch-all only.
#include "common/errors.hpp"

#include <new>

#include <nlohmann/json.hpp>

namespace pgfraud {

ErrorInfo Classify(std::exception_ptr error) noexcept {
  try {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      return {e.code(), e.what(), e.detail()};
    } catch (const std::bad_alloc&) {
      return {ErrorCode::kOutOfMemory, "out of memory", "pg_fraud could not allocate memory."};
    } catch (const nlohmann::json::exception&) {
      // nlohmann's messages may quote document content, so they are not passed on.
      return {ErrorCode::kInvalidModelDocument, "invalid model document",
              "The document is not valid JSON of the expected shape."};
    } catch (const std::invalid_argument& e) {
      return {ErrorCode::kInvalidParameterValue, e.what(), ""};
    } catch (const std::out_of_range& e) {
      return {ErrorCode::kNumericValueOutOfRange, e.what(), ""};
    } catch (const std::exception& e) {
      return {ErrorCode::kInternal, std::string("internal error in pg_fraud: ") + e.what(), ""};
    } catch (...) {
      return {ErrorCode::kInternal, "internal error in pg_fraud: unknown exception", ""};
    }
  } catch (...) {
    // Building the message itself failed (out of memory while copying strings).
    return {ErrorCode::kOutOfMemory, std::string(), std::string()};
  }
}

}  // namespace pgfraud
