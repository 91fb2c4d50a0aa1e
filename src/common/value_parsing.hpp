// Parsing of text values: numbers, booleans and the date/time parts of ISO timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgfraud {

// Parses a decimal number ("12.50", " -3e2 "); throws Error naming `feature` on bad or non-finite text.
double ParseNumber(std::string_view text, const std::string& feature);

// Parses a boolean spelled true/false, t/f, yes/no, y/n, on/off or 1/0 (any case).
bool ParseBool(std::string_view text, const std::string& feature);

// Date and time parts of "YYYY-MM-DD[(T| )HH[:MM[:SS[.fff]]]][zone]"; the hour is as written.
struct DateTimeParts {
  int hour;         // 0..23, 0 when the text has a date only
  int day_of_week;  // 0 = Sunday .. 6 = Saturday, as extract(dow)
  // With an explicit UTC offset ("Z", "+09", "+09:00", "-0530"): the instant, in seconds
  // since 1970-01-01 00:00 UTC (a fraction of a second dropped).
  bool has_offset = false;
  int64_t unix_seconds = 0;
};

// Parses an ISO 8601 date or timestamp; throws Error naming `feature` when it is not one.
DateTimeParts ParseDateTime(std::string_view text, const std::string& feature);

// Day of the week (0 = Sunday) of a proleptic Gregorian date.
int DayOfWeek(int year, int month, int day) noexcept;

// Canonical text of a number used as a category: integers without a fraction, others shortest.
std::string NumberAsCategory(double x);

}  // namespace pgfraud
