// Fast numeric -> double conversion for the scoring hot path (inline: it runs per value).
//
// Decodes the on-disk numeric format (base-10000 digits), which is stable across releases.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {
namespace numeric_detail {

// Header bits of the numeric on-disk format (src/backend/utils/adt/numeric.c).
constexpr uint16_t kSignMask = 0xC000;
constexpr uint16_t kNegative = 0x4000;
constexpr uint16_t kShort = 0x8000;
constexpr uint16_t kSpecial = 0xC000;
constexpr uint16_t kShortSignMask = 0x2000;
constexpr uint16_t kShortWeightSignMask = 0x0040;
constexpr uint16_t kShortWeightMask = 0x003F;
constexpr uint16_t kNaN = 0xC000;
constexpr uint16_t kPositiveInfinity = 0xD000;
constexpr uint16_t kExtSignMask = 0xF000;

// Five base-10000 digits are 20 decimal digits: more than a double holds, so later ones are dropped.
constexpr int kSignificantDigits = 5;

// 10000^exponent for exponent >= 0; powers up to 10^20 are exact doubles.
inline double PowerOf10000(int exponent) {
  static const double kPowers[] = {1e0, 1e4, 1e8, 1e12, 1e16, 1e20};
  if (exponent <= 5) return kPowers[exponent];
  return std::pow(10000.0, exponent);
}

}  // namespace numeric_detail

inline double NumericToDouble(Numeric num) {
  namespace nd = numeric_detail;
  const char* data = VARDATA_ANY(num);
  const int size = static_cast<int>(VARSIZE_ANY_EXHDR(num));
  uint16_t header;
  std::memcpy(&header, data, sizeof header);
  const uint16_t sign = header & nd::kSignMask;
  if (sign == nd::kSpecial) {
    const uint16_t special = header & nd::kExtSignMask;
    if (special == nd::kNaN) return std::numeric_limits<double>::quiet_NaN();
    return special == nd::kPositiveInfinity ? std::numeric_limits<double>::infinity()
                                            : -std::numeric_limits<double>::infinity();
  }
  bool negative;
  int weight;
  int offset;
  if (sign == nd::kShort) {
    negative = (header & nd::kShortSignMask) != 0;
    const int magnitude = header & nd::kShortWeightMask;
    weight = (header & nd::kShortWeightSignMask) ? magnitude - (nd::kShortWeightMask + 1) : magnitude;
    offset = 2;
  } else {
    negative = sign == nd::kNegative;
    int16_t w;
    std::memcpy(&w, data + 2, sizeof w);
    weight = w;
    offset = 4;
  }
  const int ndigits = (size - offset) / 2;
  const char* digits = data + offset;
  int16_t d0 = 0, d1 = 0;
  double mantissa;
  int exponent;
  if (ndigits <= 2) {
    // The common case (amounts, rates: one or two base-10000 digits) without a loop whose
    // trip count the branch predictor would miss: read what is there, pad with zero.
    if (ndigits >= 1) std::memcpy(&d0, digits, sizeof d0);
    if (ndigits == 2) std::memcpy(&d1, digits + 2, sizeof d1);
    mantissa = static_cast<double>(d0 * 10000 + d1);
    exponent = weight - 1;
  } else {
    // Up to four digits as an integer (below 10^16, exact), then a fifth; later ones are
    // below double precision.
    const int used = ndigits < nd::kSignificantDigits ? ndigits : nd::kSignificantDigits;
    int64_t integer = 0;
    for (int i = 0; i < used && i < 4; ++i) {
      int16_t digit;
      std::memcpy(&digit, digits + 2 * i, sizeof digit);
      integer = integer * 10000 + digit;
    }
    mantissa = static_cast<double>(integer);
    if (used == 5) {
      int16_t digit;
      std::memcpy(&digit, digits + 8, sizeof digit);
      mantissa = mantissa * 10000.0 + digit;
    }
    exponent = weight - (used - 1);
  }
  // Dividing by an exact power of ten rounds once, so "420.7" decodes to the double nearest
  // 420.7, exactly as the text path (and numeric_float8) would give.
  const double value = exponent >= 0 ? mantissa * nd::PowerOf10000(exponent)
                                     : mantissa / nd::PowerOf10000(-exponent);
  return negative ? -value : value;
}

}  // namespace glue
}  // namespace pgfraud
