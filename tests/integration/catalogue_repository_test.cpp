// ecd::catalogue::Repository against the real PostgreSQL, on a fresh database per test migrated
// with the catalogue's own migrations: round trips, filters and keyset paging, updates,
// idempotent creation, the database's own rules, materials and the seed.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <latch>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/crypto.hpp"
#include "common/migrations.hpp"
#include "common/pg.hpp"
#include "common/status.hpp"
#include "services/catalogue/repository.hpp"
#include "services/catalogue/seed.hpp"
#include "services/catalogue/validation.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::catalogue {
const std::vector<ecd::Migration>& Migrations();
}  // namespace ecd::catalogue

namespace ecd::catalogue {
namespace {

using google::protobuf::Timestamp;
using google::protobuf::util::MessageDifferencer;

// 2026-03-03T08:00:00Z
constexpr int64_t kBaseMicros = int64_t{1772524800} * 1000000;
constexpr int64_t kMinute = int64_t{60} * 1000000;
constexpr int64_t kDay = 24 * 60 * kMinute;

Timestamp At(int64_t micros) {
  Timestamp t;
  t.set_seconds(micros / 1000000);
  t.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return t;
}

int64_t MicrosOf(const Timestamp& t) { return t.seconds() * 1000000 + t.nanos() / 1000; }

std::string IdOf(const std::string& name) { return name.substr(name.rfind('/') + 1); }

// A valid event as the service would store it (defaults applied), starting at `start`.
v1::Event ValidEvent(const std::string& series_id, int64_t start,
                     v1::Region region = v1::REGION_AFRICA, const std::string& language = "en",
                     v1::EventStatus status = v1::EVENT_STATUS_PUBLISHED) {
  v1::Event e;
  if (!series_id.empty()) e.set_series("series/" + series_id);
  e.set_title("Webinar with the countries of Africa");
  e.set_description("Live webinar.\nTwo lines, \"quotes\", a back\\slash and {braces}.");
  e.set_region(region);
  e.set_language_code(language);
  *e.mutable_start_time() = At(start);
  *e.mutable_end_time() = At(start + 105 * kMinute);
  e.set_duration_minutes(100);
  e.set_platform("Zoom");
  e.set_join_url("https://zoom.us/j/123456789?pwd=a,b");
  e.set_status(status);
  ApplyEventDefaults(&e);
  return e;
}

// Every field set, with values that would reveal a lossy round trip.
v1::Event FullEvent(const std::string& series_id) {
  v1::Event e = ValidEvent(series_id, kBaseMicros + 123457, v1::REGION_LATIN_AMERICA_CARIBBEAN,
                           "es", v1::EVENT_STATUS_DRAFT);
  *e.mutable_end_time() = At(kBaseMicros + 105 * kMinute + 999999);
  // Agenda in an order that neither titles nor speakers sort into.
  const std::tuple<const char*, const char*, int, int> segments[] = {
      {"Zeta: legislation", "Speaker B", 10, 15},
      {"Alpha: cooperation", "", 0, 30},
      {"Mu: training, \"practice\"", "Speaker A", 7, 0},
  };
  for (const auto& [title, speaker, presentation, discussion] : segments) {
    auto* seg = e.add_agenda();
    seg->set_title(title);
    seg->set_speaker(speaker);
    seg->set_presentation_minutes(presentation);
    seg->set_discussion_minutes(discussion);
  }
  e.add_topics("The concept of cybercrime, in criminal justice");
  e.add_topics("Quotes \" and backslashes \\ and {braces}");
  e.add_invited_countries("NG");
  e.add_invited_countries("GH");
  e.add_invited_countries("SN");
  e.set_participants_per_country(3);
  *e.mutable_registration_open_time() = At(kBaseMicros - 30 * kDay + 1);
  *e.mutable_registration_close_time() = At(kBaseMicros - kDay + 654321);
  e.set_approval_mode(v1::APPROVAL_MODE_MANUAL);
  e.set_certificate_threshold_percent(80);
  e.set_info_kit_lead_hours(48);
  e.mutable_recording()->set_state(v1::RECORDING_STATE_PUBLISHED);
  e.mutable_recording()->set_url("https://example.org/recordings/1");
  return e;
}

v1::Series ValidSeries(const std::string& title) {
  v1::Series s;
  s.set_title(title);
  s.set_description("A series of webinars.");
  s.add_organisers("EU Cyber Direct");
  s.add_organisers("Council of Europe, \"CoE\"");
  s.set_funding_notice("This project is funded by the European Union.");
  s.add_topics("Topic {one}");
  s.add_topics("Topic \\two");
  return s;
}

// The stored event should be `input` plus the output-only fields.
void ExpectStoredAs(const v1::Event& stored, v1::Event input, const std::string& id,
                    int64_t revision) {
  EXPECT_EQ(stored.name(), "events/" + id);
  EXPECT_EQ(stored.revision(), revision);
  EXPECT_TRUE(stored.has_create_time());
  EXPECT_TRUE(stored.has_update_time());
  input.set_name("events/" + id);
  input.set_revision(revision);
  *input.mutable_create_time() = stored.create_time();
  *input.mutable_update_time() = stored.update_time();
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(input, stored)) << diff;
}

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = test::NewDatabaseUrl("it");
    PgPool::Options o;
    o.url = url_;
    o.size = 4;
    pool_ = std::make_unique<PgPool>(o);
    auto report = RunMigrations(*pool_, "catalogue", Migrations());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    repo_ = std::make_unique<Repository>(*pool_);
  }

  int64_t Count(const std::string& statement) {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    return tx.exec(statement)[0][0].as<int64_t>();
  }

  std::string NewSeries(const std::string& title) {
    const std::string id = NewUuid();
    auto s = repo_->CreateSeries(ValidSeries(title), id, "", "");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return id;
  }

  // Creates a valid event; its id.
  std::string Create(const v1::Event& e) {
    EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e).ToString();
    const std::string id = NewUuid();
    auto created = repo_->CreateEvent(e, id, "", "");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return id;
  }

  // Every page of ListEvents with `limit`, following the cursor; the ids in order.
  std::vector<std::string> ListAll(const EventFilter& filter, int limit = 100) {
    std::vector<std::string> ids;
    std::optional<Cursor> after;
    for (int page = 0; page < 1000; ++page) {
      auto events = repo_->ListEvents(filter, after, limit);
      EXPECT_TRUE(events.ok()) << events.status().ToString();
      if (!events.ok()) break;
      EXPECT_LE(static_cast<int>(events->size()), limit);
      for (const auto& e : *events) ids.push_back(IdOf(e.name()));
      if (static_cast<int>(events->size()) < limit) break;
      const auto& last = events->back();
      after = Cursor{MicrosOf(last.start_time()), IdOf(last.name())};
    }
    return ids;
  }

  std::string url_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RepositoryTest, SeriesRoundTrip) {
  const std::string id = NewUuid();
  v1::Series input = ValidSeries("Cybercrime and criminal justice in cyberspace");
  auto created = repo_->CreateSeries(input, id, "series-req-1", "hash-1");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto got = repo_->GetSeries(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->has_create_time());
  input.set_name("series/" + id);
  *input.mutable_create_time() = got->create_time();
  EXPECT_TRUE(MessageDifferencer::Equals(input, *got)) << got->DebugString();
  EXPECT_TRUE(MessageDifferencer::Equals(*created, *got));

  auto same = repo_->CreateSeries(input, NewUuid(), "series-req-1", "hash-1");
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->name(), "series/" + id);
  auto reused = repo_->CreateSeries(input, NewUuid(), "series-req-1", "hash-2");
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(reused.status().reason(), "REQUEST_ID_REUSED");
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.series"), 1);

  auto missing = repo_->GetSeries(NewUuid());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, ListSeriesPagesThroughEverySeriesOnce) {
  std::set<std::string> made;
  for (int i = 0; i < 7; ++i) made.insert(NewSeries("Series " + std::to_string(i)));
  ASSERT_FALSE(HasFailure());
  auto everything = repo_->ListSeries(std::nullopt, 100);
  ASSERT_TRUE(everything.ok()) << everything.status().ToString();
  std::vector<std::string> all;
  for (const auto& s : *everything) all.push_back(IdOf(s.name()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), made);
  ASSERT_EQ(all.size(), made.size());
  for (int limit : {1, 2, 3, 7}) {
    std::vector<std::string> paged;
    std::optional<Cursor> after;
    for (int page = 0; page < 20; ++page) {
      auto series = repo_->ListSeries(after, limit);
      ASSERT_TRUE(series.ok()) << series.status().ToString();
      for (const auto& s : *series) paged.push_back(IdOf(s.name()));
      if (static_cast<int>(series->size()) < limit) break;
      after = Cursor{MicrosOf(series->back().create_time()), IdOf(series->back().name())};
    }
    EXPECT_EQ(paged, all) << "limit " << limit;
  }
}

TEST_F(RepositoryTest, GetEventRoundTripsEveryField) {
  const std::string series = NewSeries("Series");
  const v1::Event input = FullEvent(series);
  ASSERT_TRUE(ValidateEvent(input).ok()) << ValidateEvent(input).ToString();
  const std::string id = NewUuid();
  auto created = repo_->CreateEvent(input, id, "", "");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ExpectStoredAs(*created, input, id, 1);
  // Written in one transaction: both times are that transaction's.
  EXPECT_TRUE(MessageDifferencer::Equals(created->create_time(), created->update_time()));

  auto got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectStoredAs(*got, input, id, 1);
  ASSERT_EQ(got->agenda_size(), 3);
  EXPECT_EQ(got->agenda(0).title(), "Zeta: legislation");
  EXPECT_EQ(got->agenda(1).title(), "Alpha: cooperation");
  EXPECT_EQ(got->agenda(2).title(), "Mu: training, \"practice\"");
  EXPECT_EQ(got->start_time().nanos(), 123457000);
  EXPECT_EQ(got->end_time().nanos(), 999999000);
  EXPECT_EQ(MicrosOf(got->registration_close_time()), kBaseMicros - kDay + 654321);

  // Optional times: none, then only the closing time.
  v1::Event bare = ValidEvent("", kBaseMicros + 7);
  const std::string bare_id = Create(bare);
  auto bare_got = repo_->GetEvent(bare_id);
  ASSERT_TRUE(bare_got.ok()) << bare_got.status().ToString();
  EXPECT_FALSE(bare_got->has_registration_open_time());
  EXPECT_FALSE(bare_got->has_registration_close_time());
  EXPECT_TRUE(bare_got->series().empty());
  EXPECT_EQ(bare_got->agenda_size(), 0);
  ExpectStoredAs(*bare_got, bare, bare_id, 1);

  v1::Event close_only = ValidEvent(series, kBaseMicros);
  *close_only.mutable_registration_close_time() = At(kBaseMicros - 1);
  const std::string close_id = Create(close_only);
  auto close_got = repo_->GetEvent(close_id);
  ASSERT_TRUE(close_got.ok()) << close_got.status().ToString();
  EXPECT_FALSE(close_got->has_registration_open_time());
  ASSERT_TRUE(close_got->has_registration_close_time());
  ExpectStoredAs(*close_got, close_only, close_id, 1);

  EXPECT_EQ(repo_->GetEvent(NewUuid()).status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, CreateEventInAMissingSeriesIsNotFound) {
  auto created = repo_->CreateEvent(ValidEvent(NewUuid(), kBaseMicros), NewUuid(), "", "");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 0);
}

TEST_F(RepositoryTest, ListEventsFilters) {
  const std::string a = NewSeries("Series A");
  const std::string b = NewSeries("Series B");
  struct Made {
    std::string id;
    int64_t start;
  };
  auto make = [&](const std::string& series, int64_t start, v1::Region region,
                  const std::string& lang, v1::EventStatus status) {
    return Made{Create(ValidEvent(series, start, region, lang, status)), start};
  };
  // Created out of start order; e6 starts with e1 (ties go by id).
  const Made e3 =
      make(b, kBaseMicros + 3 * kDay, v1::REGION_ASIA_PACIFIC, "en", v1::EVENT_STATUS_PUBLISHED);
  const Made e1 =
      make(a, kBaseMicros + 1 * kDay, v1::REGION_AFRICA, "en", v1::EVENT_STATUS_PUBLISHED);
  const Made e5 =
      make("", kBaseMicros + 5 * kDay, v1::REGION_GLOBAL, "en", v1::EVENT_STATUS_COMPLETED);
  const Made e2 = make(a, kBaseMicros + 2 * kDay, v1::REGION_AFRICA, "fr", v1::EVENT_STATUS_DRAFT);
  const Made e4 = make(b, kBaseMicros + 4 * kDay, v1::REGION_LATIN_AMERICA_CARIBBEAN, "es",
                       v1::EVENT_STATUS_CANCELLED);
  const Made e6 =
      make(a, kBaseMicros + 1 * kDay, v1::REGION_AFRICA, "en", v1::EVENT_STATUS_PUBLISHED);
  ASSERT_FALSE(HasFailure());

  auto ordered = [](std::vector<Made> items) {
    std::sort(items.begin(), items.end(), [](const Made& x, const Made& y) {
      return std::tie(x.start, x.id) < std::tie(y.start, y.id);
    });
    std::vector<std::string> ids;
    for (const auto& m : items) ids.push_back(m.id);
    return ids;
  };
  auto filter = [](bool drafts) {
    EventFilter f;
    f.include_drafts = drafts;
    return f;
  };

  EXPECT_EQ(ListAll(filter(true)), ordered({e1, e2, e3, e4, e5, e6}));
  EXPECT_EQ(ListAll(filter(false)), ordered({e1, e3, e4, e5, e6}));

  EventFilter f = filter(true);
  f.series_id = a;
  EXPECT_EQ(ListAll(f), ordered({e1, e2, e6}));
  f.include_drafts = false;
  EXPECT_EQ(ListAll(f), ordered({e1, e6}));
  f.series_id = b;
  EXPECT_EQ(ListAll(f), ordered({e3, e4}));
  f.series_id = NewUuid();
  EXPECT_TRUE(ListAll(f).empty());

  f = filter(true);
  f.region = v1::REGION_AFRICA;
  EXPECT_EQ(ListAll(f), ordered({e1, e2, e6}));
  f.region = v1::REGION_LATIN_AMERICA_CARIBBEAN;
  EXPECT_EQ(ListAll(f), ordered({e4}));
  f.region = v1::REGION_EASTERN_EUROPE;
  EXPECT_TRUE(ListAll(f).empty());

  f = filter(true);
  f.language_code = "fr";
  EXPECT_EQ(ListAll(f), ordered({e2}));
  f.include_drafts = false;
  EXPECT_TRUE(ListAll(f).empty());
  f.language_code = "en";
  EXPECT_EQ(ListAll(f), ordered({e1, e3, e5, e6}));

  f = filter(true);
  f.status = v1::EVENT_STATUS_DRAFT;
  EXPECT_EQ(ListAll(f), ordered({e2}));
  f.include_drafts = false;  // drafts stay hidden even when asked for by status
  EXPECT_TRUE(ListAll(f).empty());
  f.status = v1::EVENT_STATUS_PUBLISHED;
  EXPECT_EQ(ListAll(f), ordered({e1, e3, e6}));
  f.status = v1::EVENT_STATUS_CANCELLED;
  EXPECT_EQ(ListAll(f), ordered({e4}));

  f = filter(true);
  f.start_from_micros = e3.start;  // inclusive
  EXPECT_EQ(ListAll(f), ordered({e3, e4, e5}));
  f.start_from_micros = e3.start + 1;
  EXPECT_EQ(ListAll(f), ordered({e4, e5}));
  f = filter(true);
  f.start_to_micros = e3.start;  // exclusive
  EXPECT_EQ(ListAll(f), ordered({e1, e2, e6}));
  f.start_from_micros = e2.start;
  EXPECT_EQ(ListAll(f), ordered({e2}));
  f.start_to_micros = e4.start;
  EXPECT_EQ(ListAll(f), ordered({e2, e3}));
  f.include_drafts = false;
  EXPECT_EQ(ListAll(f), ordered({e3}));

  // Filters combine.
  f = filter(true);
  f.series_id = a;
  f.region = v1::REGION_AFRICA;
  f.language_code = "en";
  f.status = v1::EVENT_STATUS_PUBLISHED;
  f.start_from_micros = e1.start;
  f.start_to_micros = e1.start + 1;
  EXPECT_EQ(ListAll(f), ordered({e1, e6}));

  // Listed events carry their agenda like GetEvent.
  v1::Event with_agenda = FullEvent(a);
  const std::string agenda_id = Create(with_agenda);
  f = filter(true);
  f.region = v1::REGION_LATIN_AMERICA_CARIBBEAN;
  f.language_code = "es";
  f.status = v1::EVENT_STATUS_DRAFT;
  auto listed = repo_->ListEvents(f, std::nullopt, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  ExpectStoredAs((*listed)[0], with_agenda, agenda_id, 1);
}

TEST_F(RepositoryTest, KeysetPagingHasNoDuplicatesOrGaps) {
  const std::string series = NewSeries("Paged");
  const std::string other = NewSeries("Other");
  std::vector<std::pair<int64_t, std::string>> expected_all, expected_series;
  for (int i = 0; i < 23; ++i) {
    // Groups of three events share a start time, and a microsecond apart matters.
    const int64_t start = kBaseMicros + (i / 3) * kDay + (i % 2);
    const bool in_series = i % 4 != 3;
    const auto status = i % 5 == 0 ? v1::EVENT_STATUS_DRAFT : v1::EVENT_STATUS_PUBLISHED;
    const std::string id =
        Create(ValidEvent(in_series ? series : other, start, v1::REGION_AFRICA, "en", status));
    expected_all.emplace_back(start, id);
    if (in_series && status != v1::EVENT_STATUS_DRAFT) expected_series.emplace_back(start, id);
  }
  ASSERT_FALSE(HasFailure());
  std::sort(expected_all.begin(), expected_all.end());
  std::sort(expected_series.begin(), expected_series.end());
  std::vector<std::string> all_ids, series_ids;
  for (const auto& [start, id] : expected_all) all_ids.push_back(id);
  for (const auto& [start, id] : expected_series) series_ids.push_back(id);

  EventFilter everything;
  everything.include_drafts = true;
  for (int limit : {1, 2, 3, 5, 7, 22, 23, 24, 100}) {
    auto ids = ListAll(everything, limit);
    EXPECT_EQ(ids, all_ids) << "limit " << limit;
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  }
  EventFilter mine;
  mine.series_id = series;
  for (int limit : {1, 4, 6, 100}) EXPECT_EQ(ListAll(mine, limit), series_ids) << "limit " << limit;

  // A page after the last item is empty; one started mid-way continues exactly there.
  auto page = repo_->ListEvents(everything, Cursor{expected_all.back().first, all_ids.back()}, 5);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->empty());
  page = repo_->ListEvents(everything, Cursor{expected_all[10].first, all_ids[10]}, 3);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(IdOf((*page)[i].name()), all_ids[11 + i]);
}

TEST_F(RepositoryTest, UpdateEventIncrementsRevisionAndRefusalChangesNothing) {
  const std::string series = NewSeries("Series");
  const v1::Event input = FullEvent(series);
  const std::string id = Create(input);
  ASSERT_FALSE(HasFailure());

  auto updated = repo_->UpdateEvent(id, [](v1::Event& e) {
    e.set_title("New title");
    e.mutable_agenda()->SwapElements(0, 2);
    e.mutable_agenda(1)->set_speaker("Someone else");
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  v1::Event expected = input;
  expected.set_title("New title");
  expected.mutable_agenda()->SwapElements(0, 2);
  expected.mutable_agenda(1)->set_speaker("Someone else");
  ExpectStoredAs(*updated, expected, id, 2);
  auto got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectStoredAs(*got, expected, id, 2);
  EXPECT_TRUE(MessageDifferencer::Equals(got->create_time(), updated->create_time()));

  // Optional times can be cleared; the agenda can be emptied.
  updated = repo_->UpdateEvent(id, [](v1::Event& e) {
    e.clear_registration_open_time();
    e.clear_agenda();
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->revision(), 3);
  EXPECT_FALSE(updated->has_registration_open_time());
  EXPECT_TRUE(updated->has_registration_close_time());
  EXPECT_EQ(updated->agenda_size(), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.agenda_segments"), 0);

  const v1::Event before = *updated;
  auto refused = repo_->UpdateEvent(id, [](v1::Event& e) {
    e.set_title("Must not be written");
    e.add_agenda()->set_title("Must not be written");
    return Status::FailedPrecondition("TEST_REFUSED", "the change refuses");
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(refused.status().reason(), "TEST_REFUSED");
  got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(*got, before)) << got->DebugString();

  // A change the database refuses (end before start) leaves the row unchanged too.
  auto broken = repo_->UpdateEvent(id, [](v1::Event& e) {
    *e.mutable_end_time() = e.start_time();
    return Status::Ok();
  });
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), Code::kFailedPrecondition) << broken.status().ToString();
  got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(*got, before)) << got->DebugString();

  auto missing = repo_->UpdateEvent(NewUuid(), [](v1::Event&) { return Status::Ok(); });
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, ConcurrentUpdatesAreAllApplied) {
  const std::string id = Create(ValidEvent("", kBaseMicros));
  ASSERT_FALSE(HasFailure());
  constexpr int kThreads = 4, kEach = 10;
  std::latch start(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        auto r = repo_->UpdateEvent(id, [](v1::Event& e) {
          e.set_participants_per_country(e.participants_per_country() + 1);
          return Status::Ok();
        });
        if (!r.ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  auto got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->revision(), 1 + kThreads * kEach);
  EXPECT_EQ(got->participants_per_country(), 4 + kThreads * kEach);
}

TEST_F(RepositoryTest, CreateEventIsIdempotentPerRequestId) {
  const std::string series = NewSeries("Series");
  const v1::Event input = FullEvent(series);
  const std::string id = NewUuid();
  auto first = repo_->CreateEvent(input, id, "create-1", "hash-a");
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  const std::string retry_id = NewUuid();
  auto retry = repo_->CreateEvent(input, retry_id, "create-1", "hash-a");
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(MessageDifferencer::Equals(*first, *retry)) << retry->DebugString();
  EXPECT_EQ(repo_->GetEvent(retry_id).status().code(), Code::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.agenda_segments"), 3);

  v1::Event different = input;
  different.set_title("Another title");
  auto reused = repo_->CreateEvent(different, NewUuid(), "create-1", "hash-b");
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(reused.status().reason(), "REQUEST_ID_REUSED");
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 1);
  auto got = repo_->GetEvent(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->title(), input.title());

  // Without a request id, every create is a new event.
  auto a = repo_->CreateEvent(input, NewUuid(), "", "");
  auto b = repo_->CreateEvent(input, NewUuid(), "", "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->name(), b->name());
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 3);
}

TEST_F(RepositoryTest, RacingRetriesOfOneCreateMakeOneEvent) {
  const v1::Event input = ValidEvent("", kBaseMicros);
  constexpr int kThreads = 4;
  std::latch start(kThreads);
  std::vector<StatusOr<v1::Event>> results(kThreads, Status::Internal("did not run"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = NewUuid();
      start.arrive_and_wait();
      results[t] = repo_->CreateEvent(input, id, "racing-request", "same-hash");
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(results[t].ok()) << "thread " << t << ": " << results[t].status().ToString();
    EXPECT_EQ(results[t]->name(), results[0]->name());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 1);
}

TEST_F(RepositoryTest, DatabaseRejectsAnAgendaSegmentOverTenMinutes) {
  v1::Event e = FullEvent(NewSeries("Series"));
  e.mutable_agenda(1)->set_presentation_minutes(11);
  // Validation would refuse it; the repository writes what it is given.
  ASSERT_EQ(ValidateEvent(e).code(), Code::kInvalidArgument);
  const std::string id = NewUuid();
  auto created = repo_->CreateEvent(e, id, "", "");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kFailedPrecondition) << created.status().ToString();
  // Nothing of it stayed: not the event row written before its agenda.
  EXPECT_EQ(repo_->GetEvent(id).status().code(), Code::kNotFound);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.agenda_segments"), 0);

  // The same through an update of a valid event.
  const v1::Event valid = FullEvent(NewSeries("Other"));
  const std::string valid_id = Create(valid);
  auto updated = repo_->UpdateEvent(valid_id, [](v1::Event& ev) {
    ev.mutable_agenda(0)->set_presentation_minutes(11);
    return Status::Ok();
  });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), Code::kFailedPrecondition) << updated.status().ToString();
  auto got = repo_->GetEvent(valid_id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectStoredAs(*got, valid, valid_id, 1);
}

TEST_F(RepositoryTest, MaterialsStoreBytesExactly) {
  const std::string event_id = Create(ValidEvent("", kBaseMicros));
  ASSERT_FALSE(HasFailure());
  std::string content = RandomBytes(3 << 20);
  content[0] = '\0';  // a zero byte and a high byte at known places, whatever RandomBytes gave
  content[1] = '\xff';
  content[content.size() - 1] = '\0';

  v1::Material m;
  m.set_kind(v1::MATERIAL_KIND_FACT_SHEET);
  m.set_title("Fact sheet");
  m.set_filename("fact-sheet.pdf");
  m.set_content_type("application/pdf");
  m.set_size_bytes(static_cast<int64_t>(content.size()));
  m.set_sha256(Sha256Hex(content));
  ASSERT_TRUE(ValidateMaterial(m, content).ok());
  const std::string material_id = NewUuid();
  auto added = repo_->AddMaterial(event_id, material_id, m, content);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const std::string name = "events/" + event_id + "/materials/" + material_id;
  EXPECT_EQ(added->name(), name);
  EXPECT_EQ(added->size_bytes(), 3 << 20);
  EXPECT_TRUE(added->has_create_time());

  auto full = repo_->GetMaterial(event_id, material_id, true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->content.size(), content.size());
  EXPECT_TRUE(full->content == content) << "the bytes differ";
  EXPECT_EQ(Sha256Hex(full->content), m.sha256());
  EXPECT_TRUE(MessageDifferencer::Equals(full->material, *added)) << full->material.DebugString();

  auto meta = repo_->GetMaterial(event_id, material_id, false);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_TRUE(meta->content.empty());
  EXPECT_TRUE(MessageDifferencer::Equals(meta->material, *added));

  v1::Material link;
  link.set_kind(v1::MATERIAL_KIND_BIBLIOGRAPHY);
  link.set_title("Bibliography");
  link.set_external_uri("https://example.org/bibliography.pdf");
  ASSERT_TRUE(ValidateMaterial(link, "").ok());
  const std::string link_id = NewUuid();
  auto link_added = repo_->AddMaterial(event_id, link_id, link, "");
  ASSERT_TRUE(link_added.ok()) << link_added.status().ToString();
  EXPECT_EQ(link_added->external_uri(), link.external_uri());
  auto link_got = repo_->GetMaterial(event_id, link_id, true);
  ASSERT_TRUE(link_got.ok()) << link_got.status().ToString();
  EXPECT_TRUE(link_got->content.empty());

  auto listed = repo_->ListMaterials(event_id);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::set<std::string> names;
  for (const auto& item : *listed) names.insert(item.name());
  EXPECT_EQ(names, (std::set<std::string>{name, "events/" + event_id + "/materials/" + link_id}));
  auto other_event = repo_->ListMaterials(Create(ValidEvent("", kBaseMicros + kDay)));
  ASSERT_TRUE(other_event.ok()) << other_event.status().ToString();
  EXPECT_TRUE(other_event->empty());
  // A material is found only under its own event.
  EXPECT_EQ(repo_->GetMaterial(NewUuid(), material_id, false).status().code(), Code::kNotFound);

  ASSERT_TRUE(repo_->DeleteMaterial(event_id, material_id).ok());
  EXPECT_EQ(repo_->GetMaterial(event_id, material_id, true).status().code(), Code::kNotFound);
  EXPECT_EQ(repo_->DeleteMaterial(event_id, material_id).code(), Code::kNotFound);
  listed = repo_->ListMaterials(event_id);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name(), "events/" + event_id + "/materials/" + link_id);

  auto orphan = repo_->AddMaterial(NewUuid(), NewUuid(), link, "");
  EXPECT_EQ(orphan.status().code(), Code::kNotFound);
}

TEST_F(RepositoryTest, SeedTwiceCreatesOnceAndListsTheFiveWebinarsInStartOrder) {
  auto first = Seed(*repo_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->created, 6);
  EXPECT_EQ(first->unchanged, 0);
  auto second = Seed(*repo_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->created, 0);
  EXPECT_EQ(second->unchanged, 6);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.series"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM catalogue.events"), 5);

  const SeedData data = BuildSeedData();
  auto series = repo_->GetSeries(data.series_id);
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  EXPECT_EQ(series->title(), data.series.title());

  auto listed = repo_->ListEvents(EventFilter{}, std::nullopt, 50);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 5u);
  // The seed data is in start order already; the list follows it.
  ASSERT_EQ(data.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const auto& [id, expected] = data.events[i];
    const v1::Event& e = (*listed)[i];
    EXPECT_EQ(e.name(), "events/" + id) << "position " << i;
    if (i > 0) {
      EXPECT_LT(MicrosOf((*listed)[i - 1].start_time()), MicrosOf(e.start_time()));
    }
    ExpectStoredAs(e, expected, id, 1);
    EXPECT_EQ(e.status(), v1::EVENT_STATUS_PUBLISHED);
    EXPECT_EQ(e.agenda_size(), 4);
  }
}

}  // namespace
}  // namespace ecd::catalogue
