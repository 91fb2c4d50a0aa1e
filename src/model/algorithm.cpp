// The registry of algorithms' document formats (see the header).
#include "model/algorithm.hpp"

#include <utility>

namespace pgfraud {
namespace {

// Built on first use, so that registrations of any translation unit find it constructed.
std::vector<AlgorithmFormat>& Registry() {
  static std::vector<AlgorithmFormat> formats;
  return formats;
}

}  // namespace

AlgorithmRegistration::AlgorithmRegistration(AlgorithmFormat format) { Registry().push_back(std::move(format)); }

const std::vector<AlgorithmFormat>& AlgorithmFormats() { return Registry(); }

const AlgorithmFormat* FindAlgorithmFormat(const std::string& name) {
  for (const AlgorithmFormat& f : Registry()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace pgfraud
