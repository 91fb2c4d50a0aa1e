// Unit tests of history declarations and window arithmetic: a hand-worked example, and the
// sweep training uses against a brute-force reading of the definition on random rows.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/errors.hpp"
#include "history/history_features.hpp"
#include "history/history_spec.hpp"

namespace pgfraud {
namespace {

constexpr int64_t kSecond = 1000000;

int64_t FakeLength(const std::string& text) {
  if (text == "1 hour") return 3600 * kSecond;
  if (text == "1 day") return 86400 * kSecond;
  if (text == "10 seconds") return 10 * kSecond;
  throw Error(ErrorCode::kInvalidParameterValue, "bad window");
}

HistorySpec Spec() {
  return HistorySpec::FromOption(nlohmann::json::parse(R"({"by": "account_id", "time": "t",
      "windows": ["10 seconds", "1 hour"], "amounts": ["amount"], "distinct": ["country"], "new": ["device"]})"),
                                 FakeLength);
}

TEST(HistorySpec, NamesEveryDerivedFeature) {
  const HistorySpec s = Spec();
  std::vector<std::string> names;
  for (const auto& f : s.Features()) names.push_back(f.name);
  ASSERT_EQ(names.size(), s.FeaturesPerEntity());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "account_id:count:10 seconds", "account_id:sum(amount):10 seconds",
                       "account_id:mean(amount):10 seconds", "account_id:ratio(amount):10 seconds",
                       "account_id:distinct(country):10 seconds", "account_id:count:1 hour",
                       "account_id:sum(amount):1 hour", "account_id:mean(amount):1 hour",
                       "account_id:ratio(amount):1 hour", "account_id:distinct(country):1 hour",
                       "account_id:seconds_since_last", "account_id:age_seconds", "account_id:new(device)"}));
}

TEST(HistorySpec, DocumentRoundTripAndBadDeclarations) {
  HistorySpec s = Spec();
  s.relation = "public.tx";
  const HistorySpec back = HistorySpec::FromDocument(s.ToJson());
  EXPECT_EQ(back.ToJson(), s.ToJson());
  EXPECT_EQ(back.windows[1].microseconds, 3600 * kSecond);
  auto bad = [](const char* text) {
    try {
      HistorySpec::FromOption(nlohmann::json::parse(text), FakeLength);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kInternal;
  };
  EXPECT_EQ(bad(R"({"time": "t"})"), ErrorCode::kInvalidParameterValue);  // no entity
  EXPECT_EQ(bad(R"({"by": "a"})"), ErrorCode::kInvalidParameterValue);    // no time
  EXPECT_EQ(bad(R"({"by": "a", "time": "t", "windows": ["2 fortnights"]})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(bad(R"({"by": ["a","b","c","d","e"], "time": "t"})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(bad(R"({"by": "a", "time": "t", "windows": ["1 hour","1 hour"]})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(bad(R"({"by": "a", "time": "t", "amounts": ["x"]})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(bad(R"({"by": "a", "time": "t", "colour": 1})"), ErrorCode::kInvalidParameterValue);
  nlohmann::json doc = s.ToJson();
  doc["windows"][0]["seconds"] = -1;
  EXPECT_THROW(HistorySpec::FromDocument(doc), Error);
}

// A worked example: rows at 0 s, 5 s, 5 s (a tie), 20 s; the current row at 20 s as well.
TEST(HistoryFeatures, WorkedExampleWithTies) {
  const HistorySpec s = Spec();
  HistorySweep sweep(s);
  sweep.Add(0, {10.0}, {std::string("US")}, {std::string("d1")});
  sweep.Add(5 * kSecond, {20.0}, {std::string("GB")}, {std::string("d1")});
  sweep.Add(5 * kSecond, {NAN}, {std::nullopt}, {std::string("d2")});
  std::vector<double> out(s.FeaturesPerEntity());
  sweep.Compute({20 * kSecond, {60.0}}, {std::string("d3")}, out.data());
  // 10 s window [10 s, 20 s): no row. 1 hour: all three, two amounts (mean 15).
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 0);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_TRUE(std::isnan(out[3]));
  EXPECT_EQ(out[4], 0);
  EXPECT_EQ(out[5], 3);
  EXPECT_EQ(out[6], 30);
  EXPECT_EQ(out[7], 15);
  EXPECT_EQ(out[8], 4);
  EXPECT_EQ(out[9], 2);
  EXPECT_EQ(out[10], 15);  // since the row at 5 s
  EXPECT_EQ(out[11], 20);  // since the first row
  EXPECT_EQ(out[12], 1);   // d3 never seen
  sweep.Compute({20 * kSecond, {60.0}}, {std::string("d2")}, out.data());
  EXPECT_EQ(out[12], 0);
  sweep.Compute({20 * kSecond, {60.0}}, {std::nullopt}, out.data());
  EXPECT_TRUE(std::isnan(out[12]));
  HistorySweep empty(s);
  empty.Compute({0, {1.0}}, {std::string("d")}, out.data());
  EXPECT_EQ(out[5], 0);
  EXPECT_TRUE(std::isnan(out[10]));
  EXPECT_EQ(out[11], 0);
  EXPECT_EQ(out[12], 1);
}

// The definition read literally: every earlier row of the entity, scanned for each row.
std::vector<double> BruteForce(const HistorySpec& s, const std::vector<int64_t>& t, const std::vector<double>& amount,
                               const std::vector<std::string>& country, const std::vector<std::string>& device,
                               size_t r) {
  std::vector<double> out;
  for (const HistoryWindow& w : s.windows) {
    double count = 0, sum = 0, counted = 0;
    std::set<std::string> countries;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= t[r] || t[i] < t[r] - w.microseconds) continue;
      count += 1;
      if (!std::isnan(amount[i])) sum += amount[i], counted += 1;
      countries.insert(country[i]);
    }
    out.push_back(count);
    out.push_back(sum);
    out.push_back(counted ? sum / counted : NAN);
    out.push_back(counted && !std::isnan(amount[r]) ? amount[r] / (sum / counted) : NAN);
    out.push_back(static_cast<double>(countries.size()));
  }
  bool any = false, seen = false;
  int64_t first = 0, last = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] >= t[r]) continue;
    first = any ? std::min(first, t[i]) : t[i];
    last = any ? std::max(last, t[i]) : t[i];
    any = true;
    seen = seen || device[i] == device[r];
  }
  out.push_back(any ? (t[r] - last) / 1e6 : NAN);
  out.push_back(any ? (t[r] - first) / 1e6 : 0);
  out.push_back(seen ? 0 : 1);
  return out;
}

TEST(HistoryFeatures, SweepMatchesTheDefinitionOnRandomRows) {
  const HistorySpec s = Spec();
  std::mt19937_64 rng(7);
  for (int entity = 0; entity < 30; ++entity) {
    std::vector<int64_t> t;
    std::vector<double> amount;
    std::vector<std::string> country, device;
    int64_t now = 0;
    for (int i = 0; i < 400; ++i) {
      now += (rng() % 4 == 0) ? 0 : static_cast<int64_t>(rng() % (600 * kSecond));  // ties, bursts, gaps
      t.push_back(now);
      amount.push_back(rng() % 10 == 0 ? NAN : static_cast<double>(rng() % 100000) / 100.0);
      // A few countries, or many (past the distinct count's short list of 8).
      country.push_back(std::string(1, static_cast<char>('A' + rng() % (entity % 2 == 0 ? 4 : 20))));
      device.push_back("d" + std::to_string(rng() % 12));
    }
    HistorySweep sweep(s);
    size_t added = 0;
    std::vector<double> got(s.FeaturesPerEntity());
    for (size_t r = 0; r < t.size(); ++r) {
      while (added < r && t[added] < t[r]) {
        sweep.Add(t[added], {amount[added]}, {country[added]}, {device[added]});
        ++added;
      }
      sweep.Compute({t[r], {amount[r]}}, {device[r]}, got.data());
      const std::vector<double> want = BruteForce(s, t, amount, country, device, r);
      ASSERT_EQ(want.size(), got.size());
      for (size_t k = 0; k < want.size(); ++k) {
        if (std::isnan(want[k])) {
          ASSERT_TRUE(std::isnan(got[k])) << "row " << r << " feature " << k;
        } else {
          ASSERT_NEAR(got[k], want[k], 1e-12 * std::max(1.0, std::fabs(want[k]))) << "row " << r << " feature " << k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace pgfraud
