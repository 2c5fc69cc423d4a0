#include "services/catalogue/seed.hpp"

#include <google/protobuf/util/time_util.h>

#include "common/countries.hpp"
#include "services/catalogue/validation.hpp"

namespace ecd::catalogue {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp Utc(const char* rfc3339) {
  google::protobuf::Timestamp t;
  if (!TimeUtil::FromString(rfc3339, &t)) throw std::logic_error(rfc3339);
  return t;
}

const char* const kTopics[] = {
    "The concept of cybercrime in criminal justice",
    "Cybercrime legislation and the reforms already undertaken by governments worldwide",
    "The challenge of international cooperation in practice",
    "The experience of training law-enforcement authorities",
};

}  // namespace

SeedData BuildSeedData() {
  SeedData d;
  d.series_id = "5eed0000-0000-4000-8000-000000000001";
  auto& s = d.series;
  s.set_title("Cybercrime and criminal justice in cyberspace");
  s.set_description(
      "A series of webinars organised by the European Union and the Council of Europe to support "
      "the new UN process on a convention against the use of information and communications "
      "technologies for criminal purposes (A/RES/74/247), through the sharing of experience "
      "between criminal-justice practitioners and foreign-policy experts.");
  s.add_organisers("EU Cyber Direct");
  s.add_organisers("Council of Europe");
  s.set_funding_notice("This project is funded by the European Union.");
  for (const char* t : kTopics) s.add_topics(t);

  struct Row {
    const char* id;
    const char* start;
    const char* end;
    v1::Region region;
    const char* language;
    const char* title;
    UnGroup group;
  };
  const Row rows[] = {
      {"5eed0000-0000-4000-8000-000000000011", "2020-06-24T07:00:00Z", "2020-06-24T08:45:00Z",
       v1::REGION_ASIA_PACIFIC, "en", "Webinar with the countries of Asia-Pacific (English)",
       UnGroup::kAsiaPacific},
      {"5eed0000-0000-4000-8000-000000000012", "2020-07-07T08:00:00Z", "2020-07-07T09:45:00Z",
       v1::REGION_AFRICA, "en", "Webinar with the countries of Africa (English)",
       UnGroup::kAfrican},
      {"5eed0000-0000-4000-8000-000000000013", "2020-07-09T08:00:00Z", "2020-07-09T09:45:00Z",
       v1::REGION_AFRICA, "fr", "Webinaire avec les pays de l'Afrique (français)",
       UnGroup::kAfrican},
      {"5eed0000-0000-4000-8000-000000000014", "2020-07-20T15:00:00Z", "2020-07-20T16:45:00Z",
       v1::REGION_LATIN_AMERICA_CARIBBEAN, "en",
       "Webinar with the countries of Latin America and the Caribbean (English)",
       UnGroup::kLatinAmericanCaribbean},
      {"5eed0000-0000-4000-8000-000000000015", "2020-07-22T15:00:00Z", "2020-07-22T16:45:00Z",
       v1::REGION_LATIN_AMERICA_CARIBBEAN, "es",
       "Webinario con América Latina y el Caribe (español)", UnGroup::kLatinAmericanCaribbean},
  };
  for (const auto& r : rows) {
    v1::Event e;
    e.set_series("series/" + d.series_id);
    e.set_title(r.title);
    e.set_description(
        "Live webinar: each segment opens with a presentation of at most 10 minutes, followed by "
        "a discussion. Pre-registration is required; up to 4 participants per invited country. "
        "A pre-webinar information kit (fact sheet, bibliography, slide deck) prepared by EU "
        "Cyber Direct is sent before the meeting. The webinar is recorded. A certificate of "
        "participation can be issued by the Council of Europe on request.");
    e.set_region(r.region);
    e.set_language_code(r.language);
    *e.mutable_start_time() = Utc(r.start);
    *e.mutable_end_time() = Utc(r.end);
    e.set_duration_minutes(100);
    e.set_platform("Zoom");
    // Four segments, one per topic: 10 minutes of presentation and 15 of discussion each make
    // the stated 100 minutes.
    for (const char* t : kTopics) {
      auto* seg = e.add_agenda();
      seg->set_title(t);
      seg->set_presentation_minutes(10);
      seg->set_discussion_minutes(15);
    }
    for (const char* t : kTopics) e.add_topics(t);
    for (const auto& c : UnGroupMembers(r.group)) e.add_invited_countries(c);
    e.set_participants_per_country(4);
    *e.mutable_registration_close_time() = Utc(r.start);
    e.set_approval_mode(v1::APPROVAL_MODE_AUTOMATIC);
    e.set_status(v1::EVENT_STATUS_PUBLISHED);
    ApplyEventDefaults(&e);
    d.events.emplace_back(r.id, std::move(e));
  }
  return d;
}

StatusOr<SeedReport> Seed(Repository& repo) {
  SeedData d = BuildSeedData();
  SeedReport report;
  ECD_RETURN_IF_ERROR(ValidateSeries(d.series));
  auto existing = repo.GetSeries(d.series_id);
  if (existing.ok()) {
    ++report.unchanged;
  } else if (existing.status().code() == Code::kNotFound) {
    ECD_ASSIGN_OR_RETURN(auto created, repo.CreateSeries(d.series, d.series_id, "", ""));
    ++report.created;
  } else {
    return existing.status();
  }
  for (const auto& [id, e] : d.events) {
    ECD_RETURN_IF_ERROR(ValidateEvent(e));
    auto found = repo.GetEvent(id);
    if (found.ok()) {
      ++report.unchanged;
      continue;
    }
    if (found.status().code() != Code::kNotFound) return found.status();
    ECD_ASSIGN_OR_RETURN(auto created, repo.CreateEvent(e, id, "", ""));
    ++report.created;
  }
  return report;
}

}  // namespace ecd::catalogue
