// Every kind of message in every language, as the notifications service sends it, parsed back by
// Python's standard e-mail parser (tests/e2e/mail_parts.py): the text states an attachment or an
// invitation exactly when the message carries it, every file it carries arrives byte for byte
// under its name (any script, RFC 2231), and the text part reads back exactly as rendered.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "services/notifications/compose.hpp"
#include "services/notifications/kit.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/mime.hpp"

namespace ecd::notifications {
namespace {

namespace fs = std::filesystem;
namespace cat = ::ecd::catalogue::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

// --- Reading mails back with Python's parser ---

struct Parsed {
  std::string subject, content_type, text, ics, ics_type;
  std::string from_name, from_address, to_name, to_address;
  int from_count = 0, to_count = 0;
  bool headers_ascii = false;
  int text_parts = 0;
  std::vector<std::map<std::string, std::string>> files;  // filename, content_type, sha256, size
  std::vector<std::string> defects;
};

std::string Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  if (it == s.fields().end()) return "";
  const Value& v = it->second;
  if (v.has_string_value()) return v.string_value();
  if (v.has_number_value()) return std::to_string(static_cast<int64_t>(v.number_value()));
  return "";
}

// Writes each raw message to a file and parses them all with one Python process.
std::vector<Parsed> ParseWithPython(const std::vector<std::string>& raws) {
  std::string dir = (fs::temp_directory_path() / "ecd-mail-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) throw std::runtime_error("mkdtemp");
  std::string command = "/usr/bin/python3 " ECD_MAIL_PARTS;
  for (size_t i = 0; i < raws.size(); ++i) {
    const std::string path = dir + "/" + std::to_string(i) + ".eml";
    std::ofstream(path, std::ios::binary) << raws[i];
    command += " " + path;
  }
  std::vector<Parsed> out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen");
  std::string output;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int rc = pclose(pipe);
  fs::remove_all(dir);
  if (rc != 0) throw std::runtime_error("mail_parts.py failed: " + output);
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    Struct s;
    if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) {
      throw std::runtime_error("not JSON: " + line);
    }
    Parsed p;
    p.subject = Field(s, "subject");
    p.content_type = Field(s, "content_type");
    p.text = Field(s, "text");
    p.ics = Field(s, "ics");
    p.ics_type = Field(s, "ics_type");
    p.text_parts = std::stoi(Field(s, "text_parts"));
    p.from_name = Field(s, "from_name");
    p.from_address = Field(s, "from_address");
    p.to_name = Field(s, "to_name");
    p.to_address = Field(s, "to_address");
    p.from_count = std::stoi(Field(s, "from_count"));
    p.to_count = std::stoi(Field(s, "to_count"));
    p.headers_ascii = s.fields().at("headers_ascii").bool_value();
    for (const auto& a : s.fields().at("attachments").list_value().values()) {
      std::map<std::string, std::string> file;
      for (const char* k : {"filename", "content_type", "sha256", "size"}) {
        file[k] = Field(a.struct_value(), k);
      }
      p.files.push_back(file);
    }
    for (const auto& d : s.fields().at("defects").list_value().values()) {
      p.defects.push_back(d.string_value());
    }
    out.push_back(std::move(p));
  }
  if (out.size() != raws.size()) throw std::runtime_error("mail_parts.py: " + output);
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool MentionsAny(const std::string& text, const std::vector<std::string>& words) {
  const std::string lower = Lower(text);
  for (const auto& w : words) {
    if (lower.find(w) != std::string::npos) return true;
  }
  return false;
}

// How each language speaks of a calendar entry and of something attached.
const std::map<std::string, std::vector<std::string>> kCalendarWords = {
    {"en", {"calendar"}}, {"fr", {"agenda", "calendrier"}}, {"es", {"calendario"}}};
const std::map<std::string, std::vector<std::string>> kAttachmentWords = {
    {"en", {"attach", "enclosed"}}, {"fr", {"joint", "pièce"}}, {"es", {"adjunt"}}};

// --- The facts every message is built from ---

std::shared_ptr<const std::string> Bytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return std::make_shared<const std::string>(std::move(s));
}

KitMaterial Uploaded(const std::string& id, const std::string& title, const std::string& filename,
                     const std::string& type, size_t size, unsigned seed) {
  KitMaterial m;
  m.name = "events/5eed0000-0000-4000-8000-000000000011/materials/" + id;
  m.title = title;
  m.filename = filename;
  m.content_type = type;
  m.content = Bytes(size, seed);
  m.size_bytes = static_cast<int64_t>(size);
  m.sha256 = Sha256Hex(*m.content);
  return m;
}

// Uploaded files with names in several scripts, one beyond the budget, one external link.
std::vector<KitMaterial> Materials() {
  KitMaterial external;
  external.name = "events/5eed0000-0000-4000-8000-000000000011/materials/e3";
  external.title = "Présentation";
  external.external_uri = "https://www.eucyberdirect.eu/kit/slides.pdf";
  return {
      Uploaded("a1", "Fiche d'information", "Fiche d'information – été 2020.pdf", "application/pdf",
               200000, 1),
      Uploaded("b2", "Библиография", "Библиография 参考文献 مراجع.docx", "", 150000, 2),
      Uploaded("c3", "Large annex", "annex.pdf", "application/pdf", 3 << 20, 3),
      external,
  };
}

cat::Event Event() {
  cat::Event e;
  e.set_name("events/5eed0000-0000-4000-8000-000000000011");
  e.set_title("Webinaire avec les pays de l'Afrique");
  e.mutable_start_time()->set_seconds(1594281600);  // 2020-07-09 08:00 UTC
  e.mutable_end_time()->set_seconds(1594281600 + 105 * 60);
  e.mutable_update_time()->set_seconds(1594000000);
  e.set_platform("Zoom");
  e.set_join_url("https://zoom.us/j/987654321");
  e.set_revision(3);
  e.mutable_recording()->set_state(cat::RECORDING_STATE_PUBLISHED);
  e.mutable_recording()->set_url("https://www.eucyberdirect.eu/rec/1");
  return e;
}

Participant Person(const std::string& language) {
  Participant p;
  p.registration_id = "8f14e45f-ceea-467f-a0e6-1b7a3c0e9d21";
  p.event_id = "5eed0000-0000-4000-8000-000000000011";
  p.status = 1;
  p.email = "zoe@justice.sn";
  p.given_name = "Zoë";
  p.family_name = "Ñúñez-Çelik";
  p.language = language;
  p.time_zone = "Africa/Dakar";
  return p;
}

struct Case {
  std::string label;
  NewMessage message;
  std::string language;
  int status = 0;
  ComposeExtras extras;
  NotifierOptions options;
};

constexpr char kVerifyTemplate[] = "https://events.example.org/verify/{registration}?code={code}";
constexpr char kManageTemplate[] = "https://events.example.org/manage/{registration}/{key}";
constexpr char kCode[] = "048213";
constexpr char kKey[] = "pK7_x-Qz9vL2mN4bR8tY1wE6uI3oA5sD0fG";

// The secrets a message may carry, and what they look like in the mail.
struct Secrets {
  std::string code, verify_url, key, manage_url;
};

// The participant statuses a kind is sent about, as variants of the case.
std::vector<int> StatusesOf(const std::string& kind) {
  if (kind == "already_registered" || kind == "participant_key") return {1, 2, 3, 6};
  if (kind == "handed_over" || kind == "handed_over_to_you") return {1, 2, 3};
  if (kind == "verify_email" || kind == "handover_verify") return {6};
  if (kind == "expired") return {7};
  if (kind == "waitlisted") return {3};
  if (kind == "pending_approval") return {2};
  if (kind == "rejected") return {5};
  if (kind == "cancelled") return {4};
  return {1};
}

std::vector<Case> EveryKindAndLanguage() {
  const auto templates = Templates::Load();
  if (!templates.ok()) throw std::runtime_error(templates.status().ToString());
  KitOptions options;
  options.attachment_budget = 1 << 20;
  options.url_template = "https://events.example.org/materials/{material}";
  const KitPlan mixed = PlanKit(Materials(), options);
  const auto all = Materials();
  const KitPlan linked_only = PlanKit({all[2], all[3]}, options);
  const KitPlan attached_only = PlanKit({all[0], all[1]}, options);
  const KitPlan empty = PlanKit({}, options);
  KitOptions no_template = options;
  no_template.url_template.clear();
  const KitPlan unlinkable = PlanKit({all[2]}, no_template);

  std::vector<Case> cases;
  for (const auto& language : Templates::Languages()) {
    for (const auto& kind : Templates::Kinds()) {
      std::vector<std::pair<std::string, ComposeExtras>> variants;
      ComposeExtras base;
      base.waitlist_position = 2;
      base.text = kind == "rejected" ? "Le quota de votre pays est atteint" : "Retard de 15 min.";
      base.certificate_serial = "ECD-2020-0709-0001";
      base.certificate_verification_code = "K7QF-2M9X-PL4D";
      if (kind == "info_kit" || kind == "info_kit_update") {
        for (const auto& [name, plan] :
             std::vector<std::pair<std::string, const KitPlan*>>{{"attached and linked", &mixed},
                                                                 {"linked only", &linked_only},
                                                                 {"attached only", &attached_only},
                                                                 {"no link", &unlinkable},
                                                                 {"no materials", &empty}}) {
          ComposeExtras x = base;
          x.kit = plan;
          variants.emplace_back(name, x);
        }
      } else if (kind == "certificate_issued") {
        ComposeExtras with_pdf = base;
        Attachment pdf;
        pdf.filename = "certificate-ECD-2020-0709-0001.pdf";
        pdf.content_type = "application/pdf";
        pdf.content = Bytes(40000, 9);
        with_pdf.files.push_back(pdf);
        variants.emplace_back("with its PDF", with_pdf);
        variants.emplace_back("without a PDF (a preview)", base);
      } else if (CarriesCode(kind)) {
        ComposeExtras x = base;
        x.secret = kCode;
        x.hold_expire_micros = int64_t{1593646200} * 1000000;  // 2020-07-01 23:30 UTC
        x.previous_holder = "Awa Diop";
        variants.emplace_back("a code", x);
      } else if (kind == "confirmed" || kind == "waitlisted" || kind == "pending_approval" ||
                 kind == "already_registered" || kind == "participant_key" ||
                 kind == "handed_over_to_you") {
        ComposeExtras x = base;
        x.secret = kKey;
        variants.emplace_back("a key", x);
        if (kind == "confirmed" || kind == "waitlisted" || kind == "pending_approval") {
          variants.emplace_back("no key", base);
        }
      } else {
        ComposeExtras x = base;
        x.hold_expire_micros = int64_t{1593646200} * 1000000;
        variants.emplace_back("", x);
      }
      for (const auto& [variant, extras] : variants) {
        for (int status : StatusesOf(kind)) {
          for (bool with_templates : {true, false}) {
            if (!with_templates && extras.secret.empty()) continue;  // the same mail
            NotifierOptions options;
            if (with_templates) {
              options.verify_url_template = kVerifyTemplate;
              options.manage_url_template = kManageTemplate;
            }
            Participant person = Person(language);
            person.status = status;
            auto m = BuildMessage(*templates, options, kind, person, Event(), "key", extras);
            if (!m.ok()) throw std::runtime_error(m.status().ToString());
            std::string label = language + "/" + kind;
            if (!variant.empty()) label += " (" + variant + ")";
            label += " status " + std::to_string(status);
            if (!extras.secret.empty()) label += with_templates ? " with links" : " without links";
            cases.push_back(Case{label, std::move(*m), language, status, extras, options});
          }
        }
      }
    }
  }
  return cases;
}

Secrets SecretsOf(const Case& c) {
  Secrets s;
  const std::string id = Person(c.language).registration_id;
  if (c.extras.secret.empty()) return s;
  if (CarriesCode(c.message.kind)) {
    s.code = c.extras.secret;
    s.verify_url = VerifyUrl(c.options.verify_url_template, id, s.code);
  } else {
    s.key = c.extras.secret;
    s.manage_url = ManageUrl(c.options.manage_url_template, id, s.key);
  }
  return s;
}

std::string Raw(const NewMessage& m) {
  Mailer mailer(SmtpConfig{});
  return mailer.Build(ToMail(NewUuid(), m.kind, m.recipient, m.recipient_name, m.subject, m.body,
                             m.icalendar, m.attachments));
}

TEST(MailClaims, EveryKindAndLanguageSaysWhatItCarries) {
  const auto cases = EveryKindAndLanguage();
  std::vector<std::string> raws;
  for (const auto& c : cases) raws.push_back(Raw(c.message));
  const auto parsed = ParseWithPython(raws);
  // Every file name that some message could carry.
  std::vector<std::string> known_files = {"certificate-ECD-2020-0709-0001.pdf"};
  for (const auto& m : Materials()) {
    if (m.uploaded()) known_files.push_back(m.filename);
  }
  int with_files = 0, with_invitation = 0, with_nothing = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const Parsed& p = parsed[i];
    SCOPED_TRACE(c.label);
    EXPECT_TRUE(p.defects.empty()) << p.defects.size() << " MIME defect(s): " << p.defects[0];
    EXPECT_EQ(p.text_parts, 1);
    EXPECT_EQ(p.subject, c.message.subject);
    EXPECT_EQ(p.text, c.message.body) << "the text part reads back as rendered";

    const bool has_ics = !p.ics.empty();
    const bool has_files = !p.files.empty();
    with_files += has_files;
    with_invitation += has_ics;
    with_nothing += !has_ics && !has_files;
    EXPECT_EQ(p.content_type, has_ics || has_files ? "multipart/mixed" : "text/plain");
    EXPECT_EQ(MentionsAny(p.text, kCalendarWords.at(c.language)), has_ics)
        << (has_ics ? "an invitation the text does not mention:\n"
                    : "the text mentions a calendar invitation the message does not carry:\n")
        << p.text;
    EXPECT_EQ(MentionsAny(p.text, kAttachmentWords.at(c.language)), has_ics || has_files)
        << (has_ics || has_files ? "something attached that the text does not mention:\n"
                                 : "the text mentions an attachment the message does not carry:\n")
        << p.text;
    EXPECT_EQ(has_ics, CarriesInvitation(c.message.kind, c.status));
    // Addressed to the person by name (RFC 2047 on the wire), from the organisers.
    EXPECT_TRUE(p.headers_ascii);
    EXPECT_EQ(p.to_count, 1);
    EXPECT_EQ(p.to_name, "Zoë Ñúñez-Çelik");
    EXPECT_EQ(p.to_address, "zoe@justice.sn");
    EXPECT_EQ(p.from_name, "EU Cyber Direct");
    EXPECT_EQ(p.from_address, "events@eucyberdirect.eu");
    // The code or key the change carried, and its link when there is a template; nothing else.
    const Secrets secrets = SecretsOf(c);
    EXPECT_EQ(p.text.find(kCode) != std::string::npos, !secrets.code.empty()) << p.text;
    EXPECT_EQ(p.text.find(kKey) != std::string::npos, !secrets.key.empty()) << p.text;
    if (!secrets.verify_url.empty()) {
      EXPECT_NE(p.text.find(secrets.verify_url), std::string::npos) << p.text;
    }
    if (!secrets.manage_url.empty()) {
      EXPECT_NE(p.text.find(secrets.manage_url), std::string::npos) << p.text;
    } else if (!secrets.key.empty()) {
      EXPECT_NE(p.text.find("\n" + secrets.key + "\n"), std::string::npos)
          << "the key, without a link to carry it:\n"
          << p.text;
    }
    EXPECT_EQ(p.text.find("https://events.example.org/verify/") != std::string::npos,
              !secrets.verify_url.empty())
        << p.text;
    EXPECT_EQ(p.text.find("https://events.example.org/manage/") != std::string::npos,
              !secrets.manage_url.empty())
        << p.text;
    if (c.message.kind == "rejected") {
      EXPECT_NE(p.text.find(c.extras.text), std::string::npos) << "the reason:\n" << p.text;
    }
    if (c.extras.hold_expire_micros != 0 &&
        (CarriesCode(c.message.kind) || c.message.kind == "handover_requested")) {
      // Until when, in UTC and in the participant's zone.
      EXPECT_NE(p.text.find(FormatInstant(c.extras.hold_expire_micros, "Africa/Dakar", c.language)),
                std::string::npos)
          << p.text;
      EXPECT_NE(p.text.find("23:30 UTC"), std::string::npos) << p.text;
      EXPECT_NE(p.text.find("Africa/Dakar"), std::string::npos) << p.text;
    }
    if (has_ics) {
      const std::string method = CancelsInvitation(c.message.kind) ? "CANCEL" : "REQUEST";
      EXPECT_NE(p.ics.find("METHOD:" + method), std::string::npos) << p.ics;
      EXPECT_NE(p.ics_type.find("method=\"" + method + "\""), std::string::npos) << p.ics_type;
    }
    // Each file the message carries is named in the text and arrives byte for byte...
    ASSERT_EQ(p.files.size(), c.message.attachments.size());
    for (size_t f = 0; f < p.files.size(); ++f) {
      const auto& sent = c.message.attachments[f];
      EXPECT_EQ(p.files[f].at("filename"), sent.filename);
      EXPECT_EQ(p.files[f].at("sha256"), Sha256Hex(*sent.content)) << sent.filename;
      EXPECT_EQ(p.files[f].at("content_type"),
                mime::ContentTypeFor(sent.content_type, sent.filename));
      EXPECT_NE(p.text.find(sent.filename), std::string::npos)
          << "a file the text does not name: " << sent.filename << "\n"
          << p.text;
    }
    // ...and no file the text names is missing.
    for (const auto& name : known_files) {
      if (p.text.find(name) == std::string::npos) continue;
      bool carried = false;
      for (const auto& f : p.files) carried = carried || f.at("filename") == name;
      EXPECT_TRUE(carried) << "the text names a file the message does not carry: " << name;
    }
  }
  // The cases cover every combination the checks tell apart.
  EXPECT_GT(with_files, 0);
  EXPECT_GT(with_invitation, 0);
  EXPECT_GT(with_nothing, 0);
}

// The kit's text lists the attached files, and links the others: external ones to their URI,
// uploaded ones beyond the budget to the frontends' URL.
TEST(MailClaims, KitTextLinksWhatItDoesNotCarry) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  KitOptions options;
  options.attachment_budget = 1 << 20;
  options.url_template = "https://events.example.org/materials/{material}";
  const KitPlan plan = PlanKit(Materials(), options);
  ComposeExtras x;
  x.kit = &plan;
  for (const auto& language : Templates::Languages()) {
    SCOPED_TRACE(language);
    auto m =
        BuildMessage(*templates, NotifierOptions{}, "info_kit", Person(language), Event(), "k", x);
    ASSERT_TRUE(m.ok());
    EXPECT_NE(m->body.find("https://events.example.org/materials/c3"), std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("https://www.eucyberdirect.eu/kit/slides.pdf"), std::string::npos);
    EXPECT_EQ(m->attachments.size(), 2u);
    EXPECT_EQ(m->body.find("annex.pdf"), std::string::npos) << "linked, not named as a file";
  }
}

// File names in any script, long ones too, survive the trip (RFC 2231 continuations), and so do
// long non-Latin subjects (RFC 2047 words) and text lines that mail systems like to mangle.
TEST(Mime, NamesSubjectsAndTextSurviveAStandardParser) {
  const std::vector<std::string> names = {
      "plain.pdf",
      "Fiche d'information – été.pdf",
      "Библиография по киберпреступности и уголовному правосудию в киберпространстве.docx",
      "参考文献 サイバー犯罪 사이버 범죄.pdf",
      "مراجع الجريمة السيبرانية.pdf",
      "quote \" and semicolon ; name.txt",
      std::string(120, 'x') + ".pdf",
  };
  OutgoingMail mail;
  mail.message_id = "m1@events.ecd";
  mail.to_address = "zoe@justice.sn";
  mail.subject =
      "Dossier d'information : Семинар по киберпреступности — 网络犯罪与刑事司法 — "
      "الجريمة السيبرانية والعدالة الجنائية";
  mail.text = "From the organisers:\n.a line starting with a dot\ntrailing spaces   \n" +
              std::string(300, 'y') + "=\n" + "Ünïcödé ✓ 🌍\n";
  for (size_t i = 0; i < names.size(); ++i) {
    Attachment a;
    a.filename = names[i];
    a.content = Bytes(i == 0 ? (3 << 20) + 1 : 1000 + i, static_cast<unsigned>(i + 20));
    mail.attachments.push_back(a);
  }
  Mailer mailer(SmtpConfig{});
  const std::string raw = mailer.Build(mail);
  size_t begin = 0;
  for (size_t end = raw.find("\r\n"); end != std::string::npos; end = raw.find("\r\n", begin)) {
    // Within the recommended 78 characters, but for a type name that cannot be folded.
    const std::string line = raw.substr(begin, end - begin);
    EXPECT_LE(line.size(), line.rfind("Content-Type: ", 0) == 0 ? 998u : 78u) << line;
    begin = end + 2;
  }
  const auto parsed = ParseWithPython({raw});
  ASSERT_EQ(parsed.size(), 1u);
  const Parsed& p = parsed[0];
  EXPECT_TRUE(p.defects.empty());
  EXPECT_EQ(p.subject, mail.subject);
  EXPECT_EQ(p.text, mail.text);
  ASSERT_EQ(p.files.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(p.files[i].at("filename"), names[i]);
    EXPECT_EQ(p.files[i].at("sha256"), Sha256Hex(*mail.attachments[i].content)) << names[i];
  }
}

// Display names in From and To: any script as RFC 2047 encoded words, ASCII with specials as a
// quoted string, each read back by Python's parser as exactly one address with the same name;
// no name can add a header or a second recipient.
TEST(Mime, DisplayNamesInAnyScriptSurviveFromAndTo) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"Zoë Ñúñez-Çelik", "Zoë Ñúñez-Çelik"},
      {"李小龙", "李小龙"},
      {"محمد بن عبد الله الهاشمي القرشي", "محمد بن عبد الله الهاشمي القرشي"},
      {"Diop, Awa", "Diop, Awa"},
      {"Awa S. Diop <awa@evil.example>", "Awa S. Diop <awa@evil.example>"},
      {"O'Brien \"Ops\" \\ Team", "O'Brien \"Ops\" \\ Team"},
      {"=?UTF-8?B?SGk=?=", "=?UTF-8?B?SGk=?="},
      {"Eve\r\nBcc: someone@example.org", "Eve  Bcc: someone@example.org"},
      {std::string(40, 'x') + " " + std::string(45, 'y'),
       std::string(40, 'x') + " " + std::string(45, 'y')},
      {"Ёлка " + std::string(30, 'a') + " Наталья Владимировна Константинопольская-Рождественская",
       "Ёлка " + std::string(30, 'a') + " Наталья Владимировна Константинопольская-Рождественская"},
      {"", ""},
  };
  std::vector<std::string> raws;
  for (const auto& [name, expected] : names) {
    SmtpConfig config;
    config.from_name = name.empty() ? "EU Cyber Direct" : name;
    Mailer mailer(config);
    OutgoingMail mail;
    mail.message_id = NewUuid() + "@events.ecd";
    mail.to_address = "a.very.long.address.of.a.participant@ministry-of-justice.example.org";
    mail.to_name = name;
    mail.subject = "s";
    mail.text = "t\n";
    raws.push_back(mailer.Build(mail));
    const std::string& raw = raws.back();
    const std::string head = raw.substr(0, raw.find("\r\n\r\n") + 2);
    EXPECT_EQ(head.find("\r\nBcc:"), std::string::npos) << head;
    size_t begin = 0;
    for (size_t end = head.find("\r\n"); end != std::string::npos; end = head.find("\r\n", begin)) {
      EXPECT_LE(end - begin, 78u) << head.substr(begin, end - begin);
      begin = end + 2;
    }
  }
  const auto parsed = ParseWithPython(raws);
  ASSERT_EQ(parsed.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i].first);
    const Parsed& p = parsed[i];
    EXPECT_TRUE(p.defects.empty()) << p.defects[0];
    EXPECT_TRUE(p.headers_ascii);
    EXPECT_EQ(p.to_count, 1);
    EXPECT_EQ(p.from_count, 1);
    EXPECT_EQ(p.to_name, names[i].second);
    EXPECT_EQ(p.from_name, names[i].second.empty() ? "EU Cyber Direct" : names[i].second);
    EXPECT_EQ(p.to_address, "a.very.long.address.of.a.participant@ministry-of-justice.example.org");
    EXPECT_EQ(p.from_address, "events@eucyberdirect.eu");
  }
  // Names of atoms go as they are; the others are quoted or encoded.
  EXPECT_EQ(mime::Mailbox("EU Cyber Direct", "events@eucyberdirect.eu"),
            "EU Cyber Direct <events@eucyberdirect.eu>");
  EXPECT_EQ(mime::Mailbox("Diop, Awa", "a@b.c"), "\"Diop, Awa\" <a@b.c>");
  EXPECT_EQ(mime::Mailbox("Zoë", "a@b.c"), "=?UTF-8?B?Wm/Dqw==?= <a@b.c>");
  EXPECT_EQ(mime::Mailbox("", "a@b.c"), "<a@b.c>");
}

}  // namespace
}  // namespace ecd::notifications
