// Loading libxgboost's C API with dlopen (see the header).
#include "trees/xgboost_library.hpp"

#include <dlfcn.h>

#include <mutex>

#include "common/errors.hpp"

namespace pgfraud {
namespace {

// Debian's libxgboost0 (1.7.4) installs the library under this soname.
constexpr const char* kLibrary = "libxgboost.so.0";

template <typename F>
void Bind(void* handle, const char* name, F* out) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    throw Error(ErrorCode::kFeatureNotSupported, std::string("libxgboost lacks the function ") + name,
                "pg_fraud trains with XGBoost 1.7's C API (Debian's libxgboost0 1.7.4).");
  }
  *out = reinterpret_cast<F>(symbol);
}

XGBoostLibrary Open() {
  // RTLD_LOCAL: its symbols stay out of the backend's namespace; RTLD_NOW: a missing
  // dependency fails here, not at a first call in the middle of training.
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(ErrorCode::kFeatureNotSupported,
                "training gradient-boosted trees needs libxgboost, which is not installed",
                std::string("Install Debian's libxgboost0 package (apt-get install libxgboost0); ") +
                    (why != nullptr ? why : "dlopen failed") + ". Scoring boosted trees does not need it.");
  }
  XGBoostLibrary lib;
  Bind(handle, "XGBGetLastError", &lib.GetLastError);
  Bind(handle, "XGBoostVersion", &lib.Version);
  Bind(handle, "XGProxyDMatrixCreate", &lib.ProxyDMatrixCreate);
  Bind(handle, "XGProxyDMatrixSetDataDense", &lib.ProxyDMatrixSetDataDense);
  Bind(handle, "XGQuantileDMatrixCreateFromCallback", &lib.QuantileDMatrixCreateFromCallback);
  Bind(handle, "XGDMatrixSetFloatInfo", &lib.DMatrixSetFloatInfo);
  Bind(handle, "XGDMatrixFree", &lib.DMatrixFree);
  Bind(handle, "XGDMatrixGetFloatInfo", &lib.DMatrixGetFloatInfo);
  Bind(handle, "XGBoosterPredictFromDMatrix", &lib.BoosterPredictFromDMatrix);
  Bind(handle, "XGBoosterCreate", &lib.BoosterCreate);
  Bind(handle, "XGBoosterFree", &lib.BoosterFree);
  Bind(handle, "XGBoosterSetParam", &lib.BoosterSetParam);
  Bind(handle, "XGBoosterUpdateOneIter", &lib.BoosterUpdateOneIter);
  Bind(handle, "XGBoosterSaveModelToBuffer", &lib.BoosterSaveModelToBuffer);
  int major = 0, minor = 0, patch = 0;
  lib.Version(&major, &minor, &patch);
  lib.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (major < 1 || (major == 1 && minor < 7)) {
    throw Error(ErrorCode::kFeatureNotSupported, "libxgboost " + lib.version + " is too old to train with",
                "pg_fraud needs XGBoost 1.7 or later (QuantileDMatrix from a data iterator).");
  }
  return lib;
}

}  // namespace

const XGBoostLibrary& XGBoostLibrary::Load() {
  static std::mutex mutex;
  static XGBoostLibrary* loaded = nullptr;  // never freed: the library stays loaded
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded == nullptr) loaded = new XGBoostLibrary(Open());
  return *loaded;
}

void XGBoostLibrary::Check(int rc, const char* what) const {
  if (rc == 0) return;
  const char* message = GetLastError != nullptr ? GetLastError() : nullptr;
  std::string detail = message != nullptr && *message != '\0' ? message : "no message";
  // Its message, without the stack trace debug builds append.
  if (size_t trace = detail.find("Stack trace"); trace != std::string::npos) detail.resize(trace);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ' || detail.back() == ':')) detail.pop_back();
  throw Error(ErrorCode::kExternalRoutine, std::string("XGBoost failed to ") + what, detail);
}

}  // namespace pgfraud
