// Decodes the on-disk numeric format (base-10000 digits), which is stable across releases.
#include "numeric_decode.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace pgfraud {
namespace glue {
namespace {

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

}  // namespace

double NumericToDouble(Numeric num) {
  const char* data = VARDATA_ANY(num);
  const int size = static_cast<int>(VARSIZE_ANY_EXHDR(num));
  uint16_t header;
  std::memcpy(&header, data, sizeof header);
  const uint16_t sign = header & kSignMask;
  if (sign == kSpecial) {
    if ((header & kExtSignMask) == kNaN) return std::numeric_limits<double>::quiet_NaN();
    return (header & kExtSignMask) == kPositiveInfinity ? std::numeric_limits<double>::infinity()
                                                        : -std::numeric_limits<double>::infinity();
  }
  bool negative;
  int weight;
  int offset;
  if (sign == kShort) {
    negative = (header & kShortSignMask) != 0;
    weight = (header & kShortWeightSignMask) ? static_cast<int>(~kShortWeightMask | (header & kShortWeightMask))
                                             : static_cast<int>(header & kShortWeightMask);
    offset = 2;
  } else {
    negative = sign == kNegative;
    int16_t w;
    std::memcpy(&w, data + 2, sizeof w);
    weight = w;
    offset = 4;
  }
  int ndigits = (size - offset) / 2;
  if (ndigits == 0) return 0.0;
  if (ndigits > kSignificantDigits) ndigits = kSignificantDigits;
  // Sum up to four digits as an integer (below 10^16, exact), convert once, add a fifth.
  int64_t digits = 0;
  const int integer_digits = ndigits < 4 ? ndigits : 4;
  for (int i = 0; i < integer_digits; ++i) {
    int16_t digit;
    std::memcpy(&digit, data + offset + 2 * i, sizeof digit);
    digits = digits * 10000 + digit;
  }
  double mantissa = static_cast<double>(digits);
  if (ndigits == 5) {
    int16_t digit;
    std::memcpy(&digit, data + offset + 8, sizeof digit);
    mantissa = mantissa * 10000.0 + digit;
  }
  // Dividing by an exact power of ten rounds once, so "420.7" decodes to the double nearest
  // 420.7, exactly as the text path (and numeric_float8) would give.
  const int exponent = weight - (ndigits - 1);
  const double value = exponent >= 0 ? mantissa * PowerOf10000(exponent) : mantissa / PowerOf10000(-exponent);
  return negative ? -value : value;
}

}  // namespace glue
}  // namespace pgfraud
