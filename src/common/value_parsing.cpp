// Text parsing for feature values; locale-independent and allocation-free on the hot path.
#include "common/value_parsing.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/errors.hpp"

namespace pgfraud {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Reads exactly `width` decimal digits at s[pos]; false when they are not there.
bool ReadDigits(std::string_view s, size_t pos, size_t width, int* out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// True for nan, inf and infinity with an optional sign, in any case.
bool IsNonFiniteWord(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return EqualsIgnoreCase(s, "nan") || EqualsIgnoreCase(s, "inf") || EqualsIgnoreCase(s, "infinity");
}

// True when s holds only digits, signs, a point and exponent letters.
bool IsDecimalNotation(std::string_view s) {
  for (char c : s) {
    bool ok = std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

double ParseNumber(std::string_view text, const std::string& feature) {
  std::string_view s = Trim(text);
  if (IsNonFiniteWord(s)) {
    throw Error(ErrorCode::kNumericValueOutOfRange, "feature \"" + feature + "\" is not a finite number",
                "NaN and Infinity are not accepted as feature values.");
  }
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0.0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) {
    throw Error(ErrorCode::kNumericValueOutOfRange,
                "feature \"" + feature + "\" is out of range for type double precision");
  }
  // from_chars would read "nan" or "inf" inside longer text; only decimal notation passes.
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !IsDecimalNotation(s)) {
    throw Error(ErrorCode::kInvalidTextRepresentation, "feature \"" + feature + "\" is not a valid number",
                "A numeric feature takes a JSON number or a string holding a decimal number.");
  }
  return value;
}

bool ParseBool(std::string_view text, const std::string& feature) {
  std::string_view s = Trim(text);
  for (const char* yes : {"true", "t", "yes", "y", "on", "1"}) {
    if (EqualsIgnoreCase(s, yes)) return true;
  }
  for (const char* no : {"false", "f", "no", "n", "off", "0"}) {
    if (EqualsIgnoreCase(s, no)) return false;
  }
  throw Error(ErrorCode::kInvalidTextRepresentation, "feature \"" + feature + "\" is not a valid boolean",
              "A boolean feature takes true/false, yes/no, y/n, on/off, 1/0 or a JSON boolean.");
}

int DayOfWeek(int year, int month, int day) noexcept {
  // Sakamoto's method; valid for the proleptic Gregorian calendar.
  static const int kOffsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (month < 3) year -= 1;
  int dow = (year + year / 4 - year / 100 + year / 400 + kOffsets[month - 1] + day) % 7;
  return dow < 0 ? dow + 7 : dow;
}

namespace {

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// After "YYYY-MM-DDTHH": [":MM"[":SS"["."digits]]] and an offset "Z", "+HH", "+HH:MM" or
// "+HHMM" ending the text; sets parts' instant when there is one.
void ReadOffset(std::string_view s, int year, int month, int day, int hour, DateTimeParts* parts) {
  size_t pos = 13;
  int minute = 0, second = 0;
  if (pos < s.size() && s[pos] == ':' && ReadDigits(s, pos + 1, 2, &minute) && minute < 60) {
    pos += 3;
    if (pos < s.size() && s[pos] == ':' && ReadDigits(s, pos + 1, 2, &second) && second <= 60) {
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      }
    }
  }
  if (pos < s.size() && s[pos] == ' ') ++pos;
  if (pos >= s.size()) return;
  int offset = 0;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset = 0;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    const size_t rest = s.size() - pos - 1;
    bool ok = ReadDigits(s, pos + 1, 2, &oh) && oh <= 15;
    if (ok && rest == 5)
      ok = s[pos + 3] == ':' && ReadDigits(s, pos + 4, 2, &om);
    else if (ok && rest == 4)
      ok = ReadDigits(s, pos + 3, 2, &om);
    else
      ok = ok && rest == 2;
    if (!ok || om >= 60) return;
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return;
  }
  parts->has_offset = true;
  parts->unix_seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
}

}  // namespace

DateTimeParts ParseDateTime(std::string_view text, const std::string& feature) {
  std::string_view s = Trim(text);
  int year = 0, month = 0, day = 0, hour = 0;
  bool ok = ReadDigits(s, 0, 4, &year) && s.size() >= 10 && s[4] == '-' && ReadDigits(s, 5, 2, &month) && s[7] == '-' &&
            ReadDigits(s, 8, 2, &day) && month >= 1 && month <= 12 && day >= 1 && day <= 31;
  if (ok) {
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    ok = day <= kDays[month - 1] && !(month == 2 && day == 29 && !leap);
  }
  if (ok && s.size() > 10) {
    ok = (s[10] == 'T' || s[10] == 't' || s[10] == ' ') && ReadDigits(s, 11, 2, &hour) && hour <= 23 &&
         (s.size() == 13 || s[13] == ':' || s[13] == '+' || s[13] == '-' || s[13] == 'Z' || s[13] == 'z');
  }
  if (!ok) {
    throw Error(ErrorCode::kInvalidTextRepresentation, "feature \"" + feature + "\" is not a valid date or timestamp",
                "A date/time feature takes an ISO 8601 text such as 2024-05-01 13:45:00, or a number.");
  }
  DateTimeParts parts{hour, DayOfWeek(year, month, day)};
  if (s.size() > 13) ReadOffset(s, year, month, day, hour, &parts);
  return parts;
}

std::string NumberAsCategory(double x) {
  char buf[64];
  if (std::nearbyint(x) == x && std::fabs(x) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", x);
  } else {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf - 1, x);
    *end = '\0';
  }
  return std::string(buf);
}

}  // namespace pgfraud
