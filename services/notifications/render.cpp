#include "services/notifications/render.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>
#include <string_view>

#include "common/time.hpp"

namespace ecd::notifications {

// Generated from templates/ by cmake/embed_templates.cmake.
const std::map<std::string, std::string>& EmbeddedTemplates();

namespace {

constexpr std::array<std::string_view, 2> kParts = {"subject", "txt"};

std::string Key(const std::string& language, const std::string& kind, std::string_view part) {
  return language + "/" + kind + "." + std::string(part);
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Templates edited on another system may carry a byte-order mark or CRLF line ends; the messages
// are assembled with LF and the mail sender decides the line ends on the wire.
std::string Normalize(std::string text) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  return text;
}

// Marks where a standalone tag line was; removed from the rendered text.
constexpr char kStandaloneMark = '\x01';

// If `line` holds only section or comment tags ({{#x}}, {{^x}}, {{/x}}, {{!...}}) and blanks,
// sets `tags` to those tags without the blanks and returns true.
bool StandaloneTags(std::string_view line, std::string& tags) {
  tags.clear();
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    if (line.compare(i, 2, "{{") != 0 || i + 2 >= line.size()) return false;
    const char sigil = line[i + 2];
    if (sigil != '#' && sigil != '^' && sigil != '/' && sigil != '!') return false;
    const size_t close = line.find("}}", i + 3);
    if (close == std::string_view::npos) return false;
    tags.append(line.substr(i, close + 2 - i));
    i = close + 2;
  }
  return !tags.empty();
}

// The mustache spec drops a line that holds only a section tag ("standalone"), so that
//   {{#reason}}
//   Reason: {{reason}}
//   {{/reason}}
// leaves no blank line whether or not there is a reason. kainjow/mustache 4.1 gets this wrong for
// sections it skips (an empty line stays), so the lines are joined here instead: the tags keep
// their place without their line break, followed by a mark that keeps the library from treating
// the line as standalone again, and that Render() removes.
std::string JoinStandaloneLines(const std::string& source) {
  std::string out;
  std::string tags;
  size_t begin = 0;
  while (begin < source.size()) {
    size_t end = source.find('\n', begin);
    const bool last = end == std::string::npos;
    if (last) end = source.size();
    const std::string_view line(source.data() + begin, end - begin);
    if (StandaloneTags(line, tags)) {
      out += tags;
      out += kStandaloneMark;
    } else {
      out.append(line);
      if (!last) out += '\n';
    }
    begin = end + 1;
  }
  return out;
}

kainjow::mustache::mustache Compile(const std::string& source) {
  kainjow::mustache::mustache tmpl(JoinStandaloneLines(source));
  // Plain-text mail: an "&" or a "<" in a title or a link must reach the reader as it is.
  tmpl.set_custom_escape([](const std::string& s) { return s; });
  return tmpl;
}

// The template `key` of the set `serial` (whose text is `source`), compiled once per thread: a
// compiled template is not safe to render from two threads at once. A thread that has seen other
// sets (templates loaded again) starts its cache afresh.
kainjow::mustache::mustache& Compiled(uint64_t serial, const std::string& key,
                                      const std::string& source) {
  thread_local uint64_t cached_serial = 0;
  thread_local std::map<std::string, kainjow::mustache::mustache> cache;
  if (cached_serial != serial) {
    cache.clear();
    cached_serial = serial;
  }
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, Compile(source)).first;
  return it->second;
}

// A subject is one header line: no line breaks, no surrounding blanks.
std::string OneLine(const std::string& text) {
  std::string out;
  bool blank = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string EndWithNewline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  text += '\n';
  return text;
}

// --- Dates in words ---

// "Tuesday 7 July 2020", "mardi 7 juillet 2020" (and "1er juillet"), "martes 7 de julio de 2020".
std::string FormatDate(date::local_days day, const std::string& language) {
  const date::year_month_day ymd{day};
  return DateInWords(static_cast<int>(ymd.year()),
                     static_cast<int>(static_cast<unsigned>(ymd.month())),
                     static_cast<int>(static_cast<unsigned>(ymd.day())), language,
                     /*weekday=*/true);
}

using LocalMinutes = date::local_time<std::chrono::minutes>;

std::string FormatClock(LocalMinutes t) {
  const auto since_midnight = t - date::floor<date::days>(t);
  const auto h = std::chrono::duration_cast<std::chrono::hours>(since_midnight).count();
  const auto m = (since_midnight - std::chrono::hours(h)).count();
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(h), static_cast<int>(m));
  return buf;
}

// "Tuesday 7 July 2020, 08:00-09:45 <label>", or both dates when the range crosses midnight.
std::string FormatRange(LocalMinutes start, LocalMinutes end, const std::string& label,
                        const std::string& language) {
  const auto start_day = date::floor<date::days>(start);
  const auto end_day = date::floor<date::days>(end);
  if (start_day == end_day) {
    return FormatDate(start_day, language) + ", " + FormatClock(start) + "-" + FormatClock(end) +
           " " + label;
  }
  return FormatDate(start_day, language) + ", " + FormatClock(start) + " - " +
         FormatDate(end_day, language) + ", " + FormatClock(end) + " " + label;
}

// Zones whose local time is UTC by definition: showing them again would only repeat the UTC part.
bool IsUtcAlias(const std::string& zone) {
  static const std::array<std::string_view, 12> kAliases = {
      "UTC",  "Etc/UTC",  "Etc/UCT", "UCT",     "Universal", "Etc/Universal",
      "Zulu", "Etc/Zulu", "GMT",     "Etc/GMT", "Etc/GMT0",  "Etc/Greenwich"};
  return std::find(kAliases.begin(), kAliases.end(), zone) != kAliases.end();
}

const date::time_zone* FindZone(const std::string& name) {
  if (name.empty() || IsUtcAlias(name)) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {  // unknown name, or no time-zone database on this system
    return nullptr;
  }
}

}  // namespace

const std::vector<std::string>& Templates::Kinds() {
  static const std::vector<std::string> kKinds = {"confirmed",          "pending_approval",
                                                  "approved",           "rejected",
                                                  "waitlisted",         "promoted",
                                                  "cancelled",          "info_kit",
                                                  "info_kit_update",    "reminder_24h",
                                                  "reminder_1h",        "event_changed",
                                                  "event_cancelled",    "recording_published",
                                                  "certificate_issued", "announcement",
                                                  "verify_email",       "already_registered",
                                                  "participant_key",    "expired",
                                                  "handover_verify",    "handover_requested",
                                                  "handed_over",        "handed_over_to_you",
                                                  "handover_expired"};
  return kKinds;
}

const std::vector<std::string>& Templates::Languages() {
  static const std::vector<std::string> kLanguages = {"en", "fr", "es"};
  return kLanguages;
}

StatusOr<Templates> Templates::Load(const std::string& dir) {
  Templates templates;
  const std::string origin = dir.empty() ? "the embedded templates" : dir;
  if (dir.empty()) {
    for (const auto& [key, text] : EmbeddedTemplates()) templates.sources_[key] = Normalize(text);
  } else {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::FailedPrecondition("TEMPLATES_MISSING", dir + " is not a directory");
    }
    for (const auto& language : Languages()) {
      for (const auto& kind : Kinds()) {
        for (const auto part : kParts) {
          const std::string key = Key(language, kind, part);
          std::ifstream in(std::filesystem::path(dir) / key, std::ios::binary);
          if (!in) continue;  // reported below with the others
          std::ostringstream text;
          text << in.rdbuf();
          if (in.bad()) return Status::FailedPrecondition("TEMPLATE_UNREADABLE", dir + "/" + key);
          templates.sources_[key] = Normalize(text.str());
        }
      }
    }
  }

  std::string missing;
  for (const auto& language : Languages()) {
    for (const auto& kind : Kinds()) {
      for (const auto part : kParts) {
        const std::string key = Key(language, kind, part);
        if (templates.sources_.count(key) == 0) missing += (missing.empty() ? "" : ", ") + key;
      }
    }
  }
  if (!missing.empty()) {
    return Status::FailedPrecondition("TEMPLATES_MISSING", "missing in " + origin + ": " + missing)
        .With("missing", missing);
  }

  static std::atomic<uint64_t> serials{0};
  templates.serial_ = ++serials;
  for (const auto& [key, text] : templates.sources_) {
    if (OneLine(text).empty()) {
      return Status::FailedPrecondition("TEMPLATE_INVALID", key + " in " + origin + " is empty");
    }
    const auto tmpl = Compile(text);
    if (!tmpl.is_valid()) {
      return Status::FailedPrecondition("TEMPLATE_INVALID",
                                        key + " in " + origin + ": " + tmpl.error_message());
    }
  }
  return templates;
}

StatusOr<RenderedMessage> Templates::Render(const std::string& kind,
                                            const MessageContext& context) const {
  if (!Contains(Kinds(), kind)) {
    return Status::InvalidArgument("kind", "unknown kind of message \"" + kind + "\"");
  }
  if (!Contains(Languages(), context.language)) {
    return Status::InvalidArgument("language",
                                   "no templates in language \"" + context.language + "\"");
  }

  // Only values that are there: a template tests a value with a section ({{#reason}}), and the
  // mustache library treats an empty string as present.
  kainjow::mustache::data data;
  const auto set = [&data](const std::string& name, const std::string& value) {
    if (!value.empty()) data.set(name, value);
  };
  set("language", context.language);
  set("given_name", context.given_name);
  set("family_name", context.family_name);
  std::string full_name = context.given_name;
  if (!context.family_name.empty()) {
    full_name += (full_name.empty() ? "" : " ") + context.family_name;
  }
  set("full_name", full_name);
  set("event_title", context.event_title);
  set("time_zone", context.time_zone);
  if (context.start_micros != 0 || context.end_micros != 0) {
    set("slot",
        FormatSlot(context.start_micros, context.end_micros, context.time_zone, context.language));
  }
  set("platform", context.platform);
  set("join_url", context.join_url);
  if (context.waitlist_position > 0) {
    set("waitlist_position", std::to_string(context.waitlist_position));
  }
  set("registration", context.registration);
  set("reason", context.reason);
  // The kit: the files this message carries, then the documents it links to.
  const auto lines = [](const std::vector<MaterialLine>& materials) {
    kainjow::mustache::list out;
    for (const auto& m : materials) {
      kainjow::mustache::object item;
      if (!m.title.empty()) item["title"] = m.title;
      if (!m.filename.empty()) item["filename"] = m.filename;
      if (!m.link.empty()) item["link"] = m.link;
      out.push_back(item);
    }
    return out;
  };
  if (!context.attached_materials.empty()) {
    data.set("attached", lines(context.attached_materials));
    data.set("has_attached", true);
  }
  if (!context.linked_materials.empty()) {
    data.set("linked", lines(context.linked_materials));
    data.set("has_linked", true);
  }
  if (!context.attached_materials.empty() || !context.linked_materials.empty()) {
    data.set("has_materials", true);
  }
  set("recording_url", context.recording_url);
  set("announcement", context.announcement);
  set("certificate_serial", context.certificate_serial);
  set("certificate_verification_code", context.certificate_verification_code);
  set("certificate_file", context.certificate_file);
  set("status_text", StatusWords(context.status, context.waitlist_position, context.language));
  set("code", context.code);
  set("verify_url", context.verify_url);
  set("manage_url", context.manage_url);
  set("participant_key", context.participant_key);
  if (!context.manage_url.empty() || !context.participant_key.empty()) data.set("manage", true);
  if (context.hold_expire_micros != 0) {
    set("hold_until",
        FormatInstant(context.hold_expire_micros, context.time_zone, context.language));
  }
  set("previous_holder", context.previous_holder);
  if (context.invitation) data.set("invitation", true);

  RenderedMessage message;
  for (const auto part : kParts) {
    const std::string key = Key(context.language, kind, part);
    const auto it = sources_.find(key);
    if (it == sources_.end()) return Status::Internal("no template " + key);
    auto& tmpl = Compiled(serial_, key, it->second);
    std::string text = tmpl.render(data);
    text.erase(std::remove(text.begin(), text.end(), kStandaloneMark), text.end());
    if (!tmpl.is_valid()) return Status::Internal(key + ": " + tmpl.error_message());
    if (part == "subject") {
      message.subject = OneLine(text);
    } else {
      message.text = EndWithNewline(std::move(text));
    }
  }
  return message;
}

std::string FormatSlot(int64_t start_micros, int64_t end_micros, const std::string& time_zone,
                       const std::string& language) {
  using std::chrono::microseconds;
  using std::chrono::minutes;
  const auto start = date::floor<minutes>(date::sys_time<microseconds>(microseconds(start_micros)));
  auto end = date::floor<minutes>(date::sys_time<microseconds>(microseconds(end_micros)));
  if (end < start) end = start;

  const auto as_local = [](date::sys_time<minutes> t) {
    return LocalMinutes(t.time_since_epoch());
  };
  std::string slot = FormatRange(as_local(start), as_local(end), "UTC", language);

  const date::time_zone* zone = FindZone(time_zone);
  if (zone == nullptr) return slot;
  const LocalMinutes local_start = date::floor<minutes>(zone->to_local(start));
  const LocalMinutes local_end = date::floor<minutes>(zone->to_local(end));
  const bool same_days =
      date::floor<date::days>(local_start) == date::floor<date::days>(as_local(start)) &&
      date::floor<date::days>(local_end) == date::floor<date::days>(as_local(end));
  if (same_days) {
    slot += " (" + FormatClock(local_start) + "-" + FormatClock(local_end) + " " + time_zone + ")";
  } else {
    slot += " (" + FormatRange(local_start, local_end, time_zone, language) + ")";
  }
  return slot;
}

std::string FormatInstant(int64_t micros, const std::string& time_zone,
                          const std::string& language) {
  using std::chrono::microseconds;
  using std::chrono::minutes;
  const auto t = date::floor<minutes>(date::sys_time<microseconds>(microseconds(micros)));
  const LocalMinutes utc(t.time_since_epoch());
  std::string out =
      FormatDate(date::floor<date::days>(utc), language) + ", " + FormatClock(utc) + " UTC";
  const date::time_zone* zone = FindZone(time_zone);
  if (zone == nullptr) return out;
  const LocalMinutes local = date::floor<minutes>(zone->to_local(t));
  if (date::floor<date::days>(local) == date::floor<date::days>(utc)) {
    return out + " (" + FormatClock(local) + " " + time_zone + ")";
  }
  return out + " (" + FormatDate(date::floor<date::days>(local), language) + ", " +
         FormatClock(local) + " " + time_zone + ")";
}

std::string StatusWords(int status, int waitlist_position, const std::string& language) {
  // ecd.registration.v1.RegistrationStatus: 1 confirmed, 2 pending approval, 3 waitlisted,
  // 4 cancelled, 5 rejected, 6 pending verification, 7 expired.
  static const std::map<std::string, std::array<const char*, 8>> kWords = {
      {"en",
       {"", "confirmed", "awaiting approval by the organisers", "on your country's waiting list",
        "cancelled", "not accepted", "held while your email address is verified", "expired"}},
      {"fr",
       {"", "confirmée", "en attente de validation par les organisateurs",
        "sur la liste d'attente de votre pays", "annulée", "non retenue",
        "réservée dans l'attente de la vérification de votre adresse électronique", "expirée"}},
      {"es",
       {"", "confirmada", "pendiente de aprobación por los organizadores",
        "en la lista de espera de su país", "cancelada", "rechazada",
        "reservada hasta que se verifique su dirección de correo electrónico", "caducada"}},
  };
  const auto it = kWords.find(language);
  if (it == kWords.end() || status < 1 || status > 7) return "";
  std::string words = it->second[static_cast<size_t>(status)];
  if (status == 3 && waitlist_position > 0) {
    const std::string n = std::to_string(waitlist_position);
    if (language == "fr") {
      words += ", en position " + n;
    } else if (language == "es") {
      words += ", en la posición " + n;
    } else {
      words += ", at position " + n;
    }
  }
  return words;
}

}  // namespace ecd::notifications
