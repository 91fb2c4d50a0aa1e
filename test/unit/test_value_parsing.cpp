// Unit tests of number, boolean and timestamp parsing.
#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "common/value_parsing.hpp"

namespace pgfraud {
namespace {

ErrorCode CodeOf(void (*fn)()) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

TEST(ParseNumber, AcceptsDecimalText) {
  EXPECT_DOUBLE_EQ(ParseNumber("12.50", "amount"), 12.5);
  EXPECT_DOUBLE_EQ(ParseNumber(" -3e2 ", "amount"), -300.0);
  EXPECT_DOUBLE_EQ(ParseNumber("+7", "amount"), 7.0);
}

TEST(ParseNumber, RefusesGarbageWithCodeAndNoValue) {
  try {
    ParseNumber("12abc", "amount");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidTextRepresentation);
    EXPECT_NE(std::string(e.what()).find("amount"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("12abc"), std::string::npos);
  }
  EXPECT_EQ(CodeOf([] { ParseNumber("", "a"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(CodeOf([] { ParseNumber("0x10", "a"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(CodeOf([] { ParseNumber("1.5nan", "a"); }), ErrorCode::kInvalidTextRepresentation);
}

TEST(ParseNumber, RefusesNonFinite) {
  EXPECT_EQ(CodeOf([] { ParseNumber("NaN", "a"); }), ErrorCode::kNumericValueOutOfRange);
  EXPECT_EQ(CodeOf([] { ParseNumber("-Infinity", "a"); }), ErrorCode::kNumericValueOutOfRange);
  EXPECT_EQ(CodeOf([] { ParseNumber("1e400", "a"); }), ErrorCode::kNumericValueOutOfRange);
}

TEST(ParseBool, Spellings) {
  EXPECT_TRUE(ParseBool("YES", "b"));
  EXPECT_TRUE(ParseBool("t", "b"));
  EXPECT_FALSE(ParseBool("0", "b"));
  EXPECT_FALSE(ParseBool(" off ", "b"));
  EXPECT_EQ(CodeOf([] { ParseBool("maybe", "b"); }), ErrorCode::kInvalidTextRepresentation);
}

TEST(ParseDateTime, HourAndWeekday) {
  // 2024-05-01 was a Wednesday (3).
  DateTimeParts p = ParseDateTime("2024-05-01T13:45:00Z", "ts");
  EXPECT_EQ(p.hour, 13);
  EXPECT_EQ(p.day_of_week, 3);
  EXPECT_EQ(ParseDateTime("2024-05-05 02:00:00+02", "ts").hour, 2);
  EXPECT_EQ(ParseDateTime("2024-05-05", "ts").day_of_week, 0);
  EXPECT_EQ(ParseDateTime("2000-02-29 23:59", "ts").day_of_week, 2);
  EXPECT_EQ(CodeOf([] { ParseDateTime("yesterday", "ts"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(CodeOf([] { ParseDateTime("2024-13-01", "ts"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(CodeOf([] { ParseDateTime("2024-02-30", "ts"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(CodeOf([] { ParseDateTime("2023-02-29", "ts"); }), ErrorCode::kInvalidTextRepresentation);
  EXPECT_EQ(ParseDateTime("2024-02-29", "ts").day_of_week, 4);
  EXPECT_EQ(CodeOf([] { ParseDateTime("2024-01-01 25:00", "ts"); }), ErrorCode::kInvalidTextRepresentation);
}

TEST(ParseDateTime, InstantOfAnExplicitOffset) {
  // Expected instants from GNU date (date -u -d TEXT +%s).
  auto instant = [](const char* text) {
    DateTimeParts p = ParseDateTime(text, "ts");
    EXPECT_TRUE(p.has_offset) << text;
    return p.unix_seconds;
  };
  EXPECT_EQ(instant("2024-05-01T13:45:00Z"), 1714571100);
  EXPECT_EQ(instant("2024-05-05 02:00:00+02"), 1714867200);
  EXPECT_EQ(instant("2024-03-01T20:30:00+05:30"), 1709305200);
  EXPECT_EQ(instant("1969-12-31T23:59:59-0100"), 3599);
  EXPECT_EQ(instant("2024-03-01T09:00:00.123+09:00"), 1709251200);
  // No offset (wall time as written), or not one we read: no instant.
  EXPECT_FALSE(ParseDateTime("2024-03-01 09:00:00", "ts").has_offset);
  EXPECT_FALSE(ParseDateTime("2024-03-01", "ts").has_offset);
  EXPECT_FALSE(ParseDateTime("2024-03-01 09:00:00 Europe/Paris", "ts").has_offset);
  EXPECT_EQ(ParseDateTime("2024-03-01T09:00:00+09:00", "ts").hour, 9);  // the hour as written stays
}

TEST(NumberAsCategory, IntegersHaveNoFraction) {
  EXPECT_EQ(NumberAsCategory(5411.0), "5411");
  EXPECT_EQ(NumberAsCategory(2.5), "2.5");
}

}  // namespace
}  // namespace pgfraud
