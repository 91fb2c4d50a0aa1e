// Unit tests of StatisticsPipeline: the statistics of rows added on its thread are those of
// rows added directly (every kind of value, many batches), and its errors reach the caller.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "training/statistics_pipeline.hpp"

namespace pgfraud {
namespace {

PassSpec Spec() {
  PassSpec spec;
  spec.columns = {
      {"amount", ColumnKind::kNumeric}, {"country", ColumnKind::kCategorical}, {"online", ColumnKind::kBoolean}};
  spec.label = "fraud";
  spec.holdout = 0.2;
  spec.whole_rows = 200;
  spec.store_budget = size_t{64} << 20;
  spec.expected_rows = 1000;  // fewer than the rows: the store grows
  return spec;
}

// Equal numbers, or both NaN (a missing value).
bool SameValue(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// The stores hold the same rows: labels, holdout flags and every value.
void ExpectSameStore(const RowStore& piped, const RowStore& direct) {
  ASSERT_EQ(piped.Rows(), direct.Rows());
  EXPECT_EQ(piped.Labels(), direct.Labels());
  EXPECT_EQ(piped.Holdout(), direct.Holdout());
  for (size_t r = 0; r < direct.Rows(); ++r) {
    for (size_t i = 0; i < direct.Width(); ++i) {
      ASSERT_TRUE(SameValue(piped.Row(r)[i], direct.Row(r)[i])) << "row " << r << " value " << i;
    }
  }
}

// Row i: amount (missing every 17th), a country of 1 to 40 bytes (missing every 23rd), a
// boolean, and the label.
struct Rows {
  std::vector<std::string> countries;
  std::vector<std::vector<FeatureValue>> values;
  explicit Rows(int n) {
    std::mt19937 rng(11);
    std::normal_distribution<double> amount(100.0, 40.0);
    for (int i = 0; i < n; ++i) countries.push_back(std::string(1 + rng() % 40, static_cast<char>('A' + rng() % 5)));
    for (int i = 0; i < n; ++i) {
      values.push_back({i % 17 == 0 ? FeatureValue::Missing() : FeatureValue::Number(amount(rng)),
                        i % 23 == 0 ? FeatureValue::Missing() : FeatureValue::Text(countries[i]),
                        FeatureValue::Bool(rng() % 3 == 0), FeatureValue::Bool(rng() % 7 == 0)});
    }
  }
};

TEST(StatisticsPipeline, GivesTheStatisticsOfRowsAddedDirectly) {
  const PassContext context(Spec());
  const Rows rows(20000);  // 40 batches: the caller waits for room in the 8 slots
  TrainingStats direct = context.NewStatistics();
  for (const auto& v : rows.values) context.AddToStatistics(direct, v.data());
  StatisticsPipeline pipeline(context, context.NewStatistics(false), context.spec().expected_rows);
  for (const auto& v : rows.values) pipeline.Add(v.data());
  TrainingStats piped = pipeline.Finish();
  direct.Settle();
  piped.Settle();

  EXPECT_EQ(piped.rows, direct.rows);
  EXPECT_EQ(piped.training_rows, direct.training_rows);
  EXPECT_EQ(piped.training_positives, direct.training_positives);
  EXPECT_EQ(piped.holdout_rows, direct.holdout_rows);
  EXPECT_GT(direct.holdout_rows, 3000);
  ASSERT_EQ(piped.moments.size(), direct.moments.size());
  for (size_t i = 0; i < direct.moments.size(); ++i) {
    EXPECT_EQ(piped.moments[i].count, direct.moments[i].count);
    EXPECT_EQ(piped.moments[i].mean, direct.moments[i].mean);  // the same sums in the same order
    EXPECT_EQ(piped.moments[i].m2, direct.moments[i].m2);
  }
  EXPECT_EQ(piped.categories[1].Top(500), direct.categories[1].Top(500));
  EXPECT_EQ(direct.categories[1].Top(500).size(), 200u);  // 40 lengths x 5 letters
  ASSERT_EQ(piped.sample.size(), direct.sample.size());
  for (size_t r = 0; r < direct.sample.size(); ++r) EXPECT_EQ(piped.sample[r].priority, direct.sample[r].priority);
  for (int positive : {0, 1}) {
    ASSERT_EQ(piped.whole[positive].size(), direct.whole[positive].size());
    for (size_t r = 0; r < direct.whole[positive].size(); ++r) {
      EXPECT_EQ(piped.whole[positive][r].packed, direct.whole[positive][r].packed);
    }
  }
  ASSERT_TRUE(piped.store.Complete());
  EXPECT_EQ(piped.store.Rows(), rows.values.size());
  EXPECT_EQ(piped.store.Dictionary(1), direct.store.Dictionary(1));
  ExpectSameStore(piped.store, direct.store);
}

// Numbers and booleans only: most rows take the plain path (TrainingStats::AddPlain), the
// others (a missing value, a label given as a number, as text or missing) the general one;
// the statistics are those of every row added directly.
TEST(StatisticsPipeline, PlainRowsGiveTheStatisticsOfRowsAddedDirectly) {
  PassSpec spec;
  spec.columns = {{"amount", ColumnKind::kNumeric}, {"online", ColumnKind::kBoolean}, {"rate", ColumnKind::kNumeric}};
  spec.label = "fraud";
  spec.holdout = 0.25;
  spec.whole_rows = 300;
  spec.store_budget = size_t{64} << 20;
  spec.expected_rows = 1000;
  const PassContext context(spec);
  ASSERT_EQ(TrainingStats::PlainKinds(context.reading()).size(), 4u);
  std::mt19937 rng(5);
  std::normal_distribution<double> amount(100.0, 40.0);
  const std::string yes = "yes";
  std::vector<std::vector<FeatureValue>> rows;
  for (int i = 0; i < 30000; ++i) {
    const bool fraud = rng() % 9 == 0;
    FeatureValue label = FeatureValue::Bool(fraud);
    if (i % 31 == 0) label = FeatureValue::Number(fraud ? 1.0 : 0.0);
    if (i % 37 == 0) label = FeatureValue::Missing();
    if (i % 41 == 0) label = fraud ? FeatureValue::Text(yes) : FeatureValue::Bool(false);
    rows.push_back({i % 19 == 0 ? FeatureValue::Missing() : FeatureValue::Number(i % 29 == 0 ? -0.0 : amount(rng)),
                    FeatureValue::Bool(rng() % 3 == 0), FeatureValue::Number(static_cast<double>(rng() % 1000) / 7.0),
                    label});
  }
  TrainingStats direct = context.NewStatistics();
  for (const auto& v : rows) context.AddToStatistics(direct, v.data());
  StatisticsPipeline pipeline(context, context.NewStatistics(false), context.spec().expected_rows);
  for (const auto& v : rows) pipeline.Add(v.data());
  TrainingStats piped = pipeline.Finish();
  direct.Settle();
  piped.Settle();

  EXPECT_EQ(piped.rows, direct.rows);
  EXPECT_EQ(piped.null_labels, direct.null_labels);
  EXPECT_GT(direct.null_labels, 700);
  EXPECT_EQ(piped.training_rows, direct.training_rows);
  EXPECT_EQ(piped.training_positives, direct.training_positives);
  EXPECT_EQ(piped.holdout_rows, direct.holdout_rows);
  EXPECT_EQ(piped.holdout_positives, direct.holdout_positives);
  EXPECT_GT(direct.holdout_rows, 6000);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(piped.moments[i].count, direct.moments[i].count) << i;
    EXPECT_EQ(piped.moments[i].mean, direct.moments[i].mean) << i;
    EXPECT_EQ(piped.moments[i].m2, direct.moments[i].m2) << i;
  }
  ASSERT_EQ(piped.sample.size(), TrainingStats::kSampleSize);
  ASSERT_EQ(piped.sample.size(), direct.sample.size());
  std::sort(piped.sample.begin(), piped.sample.end());
  std::sort(direct.sample.begin(), direct.sample.end());
  for (size_t r = 0; r < direct.sample.size(); ++r) {
    ASSERT_EQ(piped.sample[r].priority, direct.sample[r].priority) << r;
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(SameValue(piped.sample[r].numbers[i], direct.sample[r].numbers[i]))
          << "sample row " << r << " value " << i;
    }
  }
  for (int positive : {0, 1}) {
    ASSERT_EQ(piped.whole[positive].size(), direct.whole[positive].size());
    EXPECT_GT(direct.whole[positive].size(), 100u);
    for (size_t r = 0; r < direct.whole[positive].size(); ++r) {
      EXPECT_EQ(piped.whole[positive][r].packed, direct.whole[positive][r].packed);
    }
  }
  ExpectSameStore(piped.store, direct.store);
}

// An infinity in an otherwise plain row is the error a row added directly gives.
TEST(StatisticsPipeline, AnInfinityInAPlainRowIsTheCallersError) {
  PassSpec spec;
  spec.columns = {{"amount", ColumnKind::kNumeric}};
  spec.label = "fraud";
  const PassContext context(spec);
  const std::vector<FeatureValue> bad = {FeatureValue::Number(INFINITY), FeatureValue::Bool(true)};
  TrainingStats direct = context.NewStatistics();
  std::string expected;
  try {
    context.AddToStatistics(direct, bad.data());
  } catch (const Error& e) {
    expected = e.what();
  }
  ASSERT_FALSE(expected.empty());
  StatisticsPipeline pipeline(context, context.NewStatistics(false), 0);
  pipeline.Add(bad.data());
  try {
    pipeline.Finish();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

// Wide rows: batches of fewer rows (16,384 values each), the same statistics.
TEST(StatisticsPipeline, WideRowsGiveTheSameStatistics) {
  PassSpec spec;
  for (int c = 0; c < 3000; ++c) spec.columns.push_back({"c" + std::to_string(c), ColumnKind::kNumeric});
  spec.label = "fraud";
  spec.holdout = 0.0;
  spec.store_budget = size_t{256} << 20;
  const PassContext context(spec);
  std::mt19937 rng(3);
  std::normal_distribution<double> n01;
  std::vector<std::vector<FeatureValue>> rows(100);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (int c = 0; c < 3000; ++c) rows[r].push_back(FeatureValue::Number(n01(rng)));
    rows[r].push_back(FeatureValue::Bool(r % 3 == 0));
  }
  TrainingStats direct = context.NewStatistics();
  StatisticsPipeline pipeline(context, context.NewStatistics(false), 0);
  for (const auto& v : rows) {
    context.AddToStatistics(direct, v.data());
    pipeline.Add(v.data());
  }
  TrainingStats piped = pipeline.Finish();
  direct.Settle();
  piped.Settle();
  ASSERT_EQ(piped.store.Rows(), rows.size());
  for (size_t i = 0; i < direct.moments.size(); i += 97) {
    EXPECT_EQ(piped.moments[i].mean, direct.moments[i].mean);
    EXPECT_EQ(piped.moments[i].m2, direct.moments[i].m2);
  }
  EXPECT_EQ(piped.store.Row(99)[2999], direct.store.Row(99)[2999]);
}

TEST(StatisticsPipeline, ABadValueOnTheThreadIsTheCallersError) {
  const PassContext context(Spec());
  const Rows rows(3000);
  const std::string text = "maybe";
  std::vector<FeatureValue> bad = rows.values[0];
  bad[3] = FeatureValue::Text(text);  // a label that is not a boolean
  const auto run = [&] {
    StatisticsPipeline pipeline(context, context.NewStatistics(false), 0);
    for (int i = 0; i < 100; ++i) pipeline.Add(rows.values[static_cast<size_t>(i)].data());
    pipeline.Add(bad.data());
    for (const auto& v : rows.values) pipeline.Add(v.data());  // the error may stop these
    pipeline.Finish();
  };
  EXPECT_THROW(run(), Error);
}

TEST(StatisticsPipeline, StopsWhenDroppedUnfinished) {
  const PassContext context(Spec());
  const Rows rows(5000);
  for (int attempt = 0; attempt < 20; ++attempt) {
    StatisticsPipeline pipeline(context, context.NewStatistics(false), 100000);
    for (int i = 0; i < attempt * 250; ++i) pipeline.Add(rows.values[static_cast<size_t>(i)].data());
  }  // an error or a cancel of the query: the state goes without Finish
  SUCCEED();
}

}  // namespace
}  // namespace pgfraud
