// libxgboost's C API, loaded by training only: dlopen on the first training of boosted trees
// in a backend. Scoring never loads it (pg_fraud scores trees with its own evaluator), and
// the postmaster never does, so libgomp, which hangs in a child after fork, never starts
// before one. The library stays loaded for the backend's life (OpenMP libraries are not safe
// to unload).
#pragma once

#include <string>

#include <xgboost/c_api.h>

namespace pgfraud {

struct XGBoostLibrary {
  decltype(&XGBGetLastError) GetLastError = nullptr;
  decltype(&XGBoostVersion) Version = nullptr;
  decltype(&XGProxyDMatrixCreate) ProxyDMatrixCreate = nullptr;
  decltype(&XGProxyDMatrixSetDataDense) ProxyDMatrixSetDataDense = nullptr;
  decltype(&XGQuantileDMatrixCreateFromCallback) QuantileDMatrixCreateFromCallback = nullptr;
  decltype(&XGDMatrixSetFloatInfo) DMatrixSetFloatInfo = nullptr;
  decltype(&XGDMatrixFree) DMatrixFree = nullptr;
  decltype(&XGDMatrixGetFloatInfo) DMatrixGetFloatInfo = nullptr;
  decltype(&XGBoosterPredictFromDMatrix) BoosterPredictFromDMatrix = nullptr;
  decltype(&XGBoosterCreate) BoosterCreate = nullptr;
  decltype(&XGBoosterFree) BoosterFree = nullptr;
  decltype(&XGBoosterSetParam) BoosterSetParam = nullptr;
  decltype(&XGBoosterUpdateOneIter) BoosterUpdateOneIter = nullptr;
  decltype(&XGBoosterSaveModelToBuffer) BoosterSaveModelToBuffer = nullptr;
  std::string version;  // "1.7.4"

  // The library, loaded on the first call (thread-safe). Throws Error(kFeatureNotSupported)
  // when libxgboost.so.0 cannot be loaded or lacks a function of this API.
  static const XGBoostLibrary& Load();

  // Throws Error(kExternalRoutine) with XGBoost's last error when rc is not 0; `what` says
  // what pg_fraud asked XGBoost to do.
  void Check(int rc, const char* what) const;
};

}  // namespace pgfraud
