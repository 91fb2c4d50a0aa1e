// One input value of one feature, as the glue hands it to the core (no ownership).
#pragma once

#include <string_view>

namespace pgfraud {

// A borrowed view of one transaction attribute: missing, a number, a string or a boolean.
struct FeatureValue {
  enum class Kind { kMissing, kNumber, kText, kBool, kOther };

  Kind kind = Kind::kMissing;
  double number = 0.0;
  std::string_view text;
  bool flag = false;

  static FeatureValue Missing() { return FeatureValue{}; }
  static FeatureValue Number(double x) { return FeatureValue{Kind::kNumber, x, {}, false}; }
  static FeatureValue Text(std::string_view s) { return FeatureValue{Kind::kText, 0.0, s, false}; }
  static FeatureValue Bool(bool b) { return FeatureValue{Kind::kBool, 0.0, {}, b}; }
  // An object, array or other value that no feature kind accepts; text names what it was.
  static FeatureValue Other(std::string_view what) { return FeatureValue{Kind::kOther, 0.0, what, false}; }

  // In-place setters for readers that fill arrays of values per row: each field is stored
  // on its own. (Assigning a constructed value made the compiler copy it through the stack
  // with a 16-byte load of two 8-byte stores, a store-forwarding stall of ~12 ns per value.)
  void SetMissing() { Set(Kind::kMissing, 0.0, false); }
  void SetNumber(double x) { Set(Kind::kNumber, x, false); }
  void SetBool(bool b) { Set(Kind::kBool, 0.0, b); }
  void SetText(std::string_view s) { Set(Kind::kText, 0.0, false, s); }
  void SetOther(std::string_view what) { Set(Kind::kOther, 0.0, false, what); }

 private:
  void Set(Kind k, double x, bool b, std::string_view s = std::string_view()) {
    kind = k;
    number = x;
    text = s;
    flag = b;
  }
};

}  // namespace pgfraud
