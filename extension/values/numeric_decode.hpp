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

// Numerics of at most two base-10000 digits in the short format (amounts, rates, codes: the
// common case) without a data-dependent branch: which of 1 or 2 digits, the sign and the
// weight vary from value to value, and a mispredicted branch costs more than the decode.
// Returns false for anything else (long format, more digits, NaN, infinities, large weights).
inline bool ShortNumericToDouble(const char* data, int size, double* out) {
  namespace nd = numeric_detail;
  uint16_t header;
  std::memcpy(&header, data, sizeof header);
  const int ndigits = (size - 2) / 2;
  // Zero has no digits, so no word to read below: the general path takes it.
  if ((header & nd::kSignMask) != nd::kShort || ndigits < 1 || ndigits > 2) return false;
  // The weight (a sign bit and six bits) without a branch; the mantissa d0 * 10000 + d1 has
  // the scale of digit d1, one below the weight.
  const int weight = ((header & (nd::kShortWeightSignMask | nd::kShortWeightMask)) ^ nd::kShortWeightSignMask) -
                     nd::kShortWeightSignMask;
  const int exponent = weight - 1;
  if (exponent < -3 || exponent > 3) return false;
  // The last four bytes hold (header, d0) or (d0, d1): read both ways, pick without a branch.
  uint32_t word;
  std::memcpy(&word, data + size - 4, sizeof word);
  const int low = static_cast<int16_t>(word & 0xFFFF);
  const int high = static_cast<int16_t>(word >> 16);
  const int two = -static_cast<int>(ndigits == 2);  // all ones when there are two digits
  const int d0 = (low & two) | (high & ~two);
  const int d1 = high & two;
  // One of the two factors is 1, so the result is rounded once, as in NumericToDouble.
  static const double kMultiply[] = {1, 1, 1, 1, 1e4, 1e8, 1e12};
  static const double kDivide[] = {1e12, 1e8, 1e4, 1, 1, 1, 1};
  const double value = static_cast<double>(d0 * 10000 + d1) * kMultiply[exponent + 3] / kDivide[exponent + 3];
  const uint64_t sign = static_cast<uint64_t>((header & nd::kShortSignMask) != 0) << 63;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  bits ^= sign;
  std::memcpy(out, &bits, sizeof bits);
  return true;
}

inline double NumericToDouble(Numeric num) {
  namespace nd = numeric_detail;
  const char* data = VARDATA_ANY(num);
  const int size = static_cast<int>(VARSIZE_ANY_EXHDR(num));
  double fast;
  if (ShortNumericToDouble(data, size, &fast)) return fast;
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
    // One or two digits that ShortNumericToDouble left here: zero, the long format, or a
    // weight beyond its table. Read what is there, pad with zero.
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
  const double value = exponent >= 0 ? mantissa * nd::PowerOf10000(exponent) : mantissa / nd::PowerOf10000(-exponent);
  return negative ? -value : value;
}

}  // namespace glue
}  // namespace pgfraud
