// Fast numeric -> double conversion for the scoring hot path.
#pragma once

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// The value of a numeric as a double (correctly rounded when it has at most 16 significant
// digits and a small exponent, within two ulp otherwise); NaN, ±Infinity and overflow map to
// NaN and ±inf. PostgreSQL's numeric_float8 prints and re-parses; this reads the digits.
double NumericToDouble(Numeric num);

}  // namespace glue
}  // namespace pgfraud
