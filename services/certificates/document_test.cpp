#include "services/certificates/document.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "services/certificates/sample_facts_test.hpp"

namespace ecd::certificates {
namespace {

// These tests look at the PDF the way a reader would: poppler-utils (pdftotext, pdftoppm,
// pdfinfo, pdffonts) and zbar-tools (zbarimg), which scripts/deps.sh installs.

struct Output {
  int exit_code = -1;
  std::string text;
};

Output RunCommand(const std::string& command) {
  Output out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.text.append(buf, n);
  int status = pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class CertificatePdf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* tool : {"pdftotext", "pdftoppm", "pdfinfo", "pdffonts", "zbarimg"}) {
      ASSERT_EQ(RunCommand(std::string("command -v ") + tool).exit_code, 0)
          << tool << " is missing: install poppler-utils and zbar-tools (scripts/deps.sh)";
    }
  }

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ecd-cert-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static CertifiedFacts Facts() { return SampleFacts("fr"); }

  static DocumentOptions Options(const std::string& language) {
    DocumentOptions o;
    o.language = language;
    o.qr_text = "https://certificates.example.org/verify/7KQ2-M9XD-44TB";
    return o;
  }

  // Renders and writes the PDF; its path, or "" (with a failure) if rendering failed.
  std::string Render(const CertifiedFacts& facts, const DocumentOptions& options) {
    auto pdf = RenderCertificatePdf(facts, options);
    EXPECT_TRUE(pdf.ok()) << pdf.status().ToString();
    if (!pdf.ok()) return "";
    std::string path = dir_ + "/certificate-" + std::to_string(++count_) + ".pdf";
    std::ofstream(path, std::ios::binary) << *pdf;
    return path;
  }

  static std::string Text(const std::string& pdf) {
    Output out = RunCommand("pdftotext -enc UTF-8 " + pdf + " -");
    EXPECT_EQ(out.exit_code, 0) << "pdftotext failed on " << pdf;
    return out.text;
  }

  // What zbarimg reads in the page rendered at 150 dpi, without the newline it adds.
  std::string DecodeQr(const std::string& pdf) {
    const std::string png = dir_ + "/page-" + std::to_string(++count_);
    EXPECT_EQ(RunCommand("pdftoppm -r 150 -png -singlefile " + pdf + " " + png).exit_code, 0);
    Output out = RunCommand("zbarimg --raw -q " + png + ".png");
    EXPECT_EQ(out.exit_code, 0) << "zbarimg found no code";
    if (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
    return out.text;
  }

  std::string dir_;
  int count_ = 0;
};

TEST_F(CertificatePdf, IsOnePageA4LandscapePdf) {
  auto pdf = RenderCertificatePdf(Facts(), Options("en"));
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf->find("%%EOF", pdf->size() - 16), std::string::npos);
  const std::string path = Render(Facts(), Options("en"));
  Output info = RunCommand("pdfinfo -isodates " + path);
  ASSERT_EQ(info.exit_code, 0);
  EXPECT_TRUE(std::regex_search(info.text, std::regex(R"(\nPages:\s+1\n)"))) << info.text;
  EXPECT_TRUE(std::regex_search(info.text, std::regex(R"(\nPage size:\s+841\.89 x 595\.276 pts)")))
      << info.text;
  // Metadata in UTF-8 too, and a creation date that is the issue date (reproducible output).
  EXPECT_NE(info.text.find("Title:           Certificate of participation – Zoë Ñúñez-Çelik\n"),
            std::string::npos)
      << info.text;
  EXPECT_NE(info.text.find("Keywords:        ECD-2020-0709-4F2K-9QXM\n"), std::string::npos);
  EXPECT_NE(info.text.find("CreationDate:    2020-07-10T00:00:00Z\n"), std::string::npos)
      << info.text;
}

TEST_F(CertificatePdf, FontsAreEmbedded) {
  Output fonts = RunCommand("pdffonts " + Render(Facts(), Options("en")));
  ASSERT_EQ(fonts.exit_code, 0);
  std::istringstream lines(fonts.text);
  std::string line;
  int rows = 0;
  bool past_header = false;
  while (std::getline(lines, line)) {
    if (line.rfind("----", 0) == 0) {
      past_header = true;
      continue;
    }
    if (!past_header || line.empty()) continue;
    ++rows;
    std::istringstream words(line);
    std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
    ASSERT_GE(w.size(), 6u) << line;
    EXPECT_NE(w[0].find("DejaVuSans"), std::string::npos) << line;
    EXPECT_EQ(w[w.size() - 5], "yes") << "not embedded: " << line;  // the "emb" column
  }
  EXPECT_EQ(rows, 2) << fonts.text;  // regular and bold
}

TEST_F(CertificatePdf, AccentedNamesComeOutExactlyInEveryLanguage) {
  for (const char* name : {"Zoë Ñúñez-Çelik", "Ngozi Okonjo-Iweala", "Łukasz Żółć-Štěpánková"}) {
    for (const char* language : {"en", "fr", "es"}) {
      CertifiedFacts f = Facts();
      f.participant_name = name;
      const std::string text = Text(Render(f, Options(language)));
      EXPECT_NE(text.find(std::string(name) + "\n"), std::string::npos)
          << name << " in " << language << ":\n"
          << text;
    }
  }
}

TEST_F(CertificatePdf, WordsAreInTheParticipantsLanguage) {
  struct Want {
    const char* language;
    std::vector<std::string> present;
    std::vector<std::string> absent;
  };
  const Want wants[] = {
      {"en",
       {"Certificate of participation", "This is to certify that", "took part in the webinar",
        "in the series “Cybercrime and criminal justice in cyberspace”",
        "on 9 July 2020, 08:00–09:45 UTC (100 minutes)", "Language: French",
        "Council of Europe, with EU Cyber Direct", "Issued on 10 July 2020",
        "This project is funded by the European Union."},
       {"Certificat de participation", "Certificado de participación"}},
      {"fr",
       {"Certificat de participation", "Le Conseil de l'Europe certifie que",
        "a participé au webinaire", "le 9 juillet 2020, de 08:00 à 09:45 UTC (100 minutes)",
        "Langue : français", "Conseil de l'Europe, avec EU Cyber Direct",
        "Délivré le 10 juillet 2020", "Ce projet est financé par l'Union européenne."},
       {"Certificate of participation", "Certificado de participación"}},
      {"es",
       {"Certificado de participación", "El Consejo de Europa certifica que",
        "el 9 de julio de 2020, de 08:00 a 09:45 UTC (100 minutos)", "Idioma: francés",
        "Consejo de Europa, con EU Cyber Direct", "Expedido el 10 de julio de 2020",
        "Este proyecto está financiado por la Unión Europea."},
       {"Certificate of participation", "Certificat de participation"}},
  };
  for (const Want& want : wants) {
    const std::string text = Text(Render(Facts(), Options(want.language)));
    for (const std::string& s : want.present) {
      EXPECT_NE(text.find(s), std::string::npos) << want.language << ": " << s << " in\n" << text;
    }
    for (const std::string& s : want.absent) {
      EXPECT_EQ(text.find(s), std::string::npos) << want.language << ": " << s << " in\n" << text;
    }
    // The facts themselves, whatever the language.
    for (const std::string& s :
         {Facts().serial, Facts().verification_code, Facts().key_id, Facts().event_title}) {
      EXPECT_NE(text.find(s), std::string::npos) << want.language << ": " << s << " in\n" << text;
    }
  }
}

TEST_F(CertificatePdf, TimeSlotAcrossMidnightAndFromOtherOffsets) {
  CertifiedFacts f = Facts();
  f.event_start = "2020-06-30T23:30:00Z";
  f.event_end = "2020-07-01T02:45:00.000+02:00";  // 00:45 UTC
  f.duration_minutes = 75;
  f.issue_date = "2020-07-01";
  EXPECT_NE(Text(Render(f, Options("en")))
                .find("from 30 June 2020, 23:30 to 1 July 2020, 00:45 UTC (75 minutes)"),
            std::string::npos);
  const std::string fr = Text(Render(f, Options("fr")));
  EXPECT_NE(fr.find("du 30 juin 2020, 23:30, au 1er juillet 2020, 00:45 UTC (75 minutes)"),
            std::string::npos)
      << fr;
  EXPECT_NE(fr.find("Délivré le 1er juillet 2020"), std::string::npos) << fr;
  f.event_start = "2020-07-01T00:44:00Z";
  f.duration_minutes = 1;
  EXPECT_NE(Text(Render(f, Options("es"))).find("de 00:44 a 00:45 UTC (1 minuto)"),
            std::string::npos);
}

TEST_F(CertificatePdf, AnotherIssuerIsPrintedAsItIs) {
  CertifiedFacts f = Facts();
  f.issuer = "Conseil de l'Europe — Division de la cybercriminalité";
  EXPECT_NE(Text(Render(f, Options("es"))).find(f.issuer), std::string::npos);
}

TEST_F(CertificatePdf, QrCodeDecodesToTheQrText) {
  for (const char* language : {"en", "fr", "es"}) {
    DocumentOptions o = Options(language);
    EXPECT_EQ(DecodeQr(Render(Facts(), o)), o.qr_text) << language;
  }
  DocumentOptions code_only = Options("en");
  code_only.qr_text = "7KQ2-M9XD-44TB";
  EXPECT_EQ(DecodeQr(Render(Facts(), code_only)), "7KQ2-M9XD-44TB");
  // A long URL means a denser code: still readable at 150 dpi.
  DocumentOptions long_url = Options("en");
  long_url.qr_text =
      "https://certificates.eucyberdirect.example.org/v1/verify?code=7KQ2-M9XD-44TB"
      "&serial=ECD-2020-0709-4F2K-9QXM&lang=en";
  EXPECT_EQ(DecodeQr(Render(Facts(), long_url)), long_url.qr_text);
}

TEST_F(CertificatePdf, WithoutQrTextTheCodeCarriesTheVerificationCode) {
  DocumentOptions o = Options("en");
  o.qr_text.clear();
  EXPECT_EQ(DecodeQr(Render(Facts(), o)), Facts().verification_code);
}

TEST_F(CertificatePdf, LongNamesAndTitlesStayOnThePage) {
  CertifiedFacts f = Facts();
  f.participant_name =
      "María de los Ángeles Fernández-Castañeda y Ñúñez-Çelik de la Santísima Trinidad Zoë";
  f.event_title =
      "Regional webinar with the countries of Latin America and the Caribbean on "
      "electronic evidence, international cooperation and the Second Additional "
      "Protocol to the Convention on Cybercrime (Spanish, with interpretation)";
  // And a name too long for any reasonable size, which must still keep its one line rather than
  // run into the line below.
  CertifiedFacts longer = f;
  longer.participant_name = f.participant_name + " " + f.participant_name;
  for (const CertifiedFacts& facts : {f, longer}) {
    const std::string path = Render(facts, Options("es"));
    const std::string text = Text(path);
    EXPECT_NE(text.find("\n" + facts.participant_name + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("(Spanish, with interpretation)"), std::string::npos) << text;
    EXPECT_TRUE(
        std::regex_search(RunCommand("pdfinfo " + path).text, std::regex(R"(\nPages:\s+1\n)")));
    // Every word inside the frame (22 pt from the edges).
    Output boxes = RunCommand("pdftotext -bbox -enc UTF-8 " + path + " -");
    std::regex word(
        R"re(<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">)re");
    int words = 0;
    for (std::sregex_iterator it(boxes.text.begin(), boxes.text.end(), word), end; it != end;
         ++it, ++words) {
      const double x0 = std::stod((*it)[1]), y0 = std::stod((*it)[2]);
      const double x1 = std::stod((*it)[3]), y1 = std::stod((*it)[4]);
      EXPECT_GE(x0, 22) << it->str();
      EXPECT_GE(y0, 22) << it->str();
      EXPECT_LE(x1, 841.89 - 22) << it->str();
      EXPECT_LE(y1, 595.276 - 22) << it->str();
    }
    EXPECT_GT(words, 50);
  }
}

TEST_F(CertificatePdf, SameFactsGiveTheSameBytes) {
  auto a = RenderCertificatePdf(Facts(), Options("fr"));
  auto b = RenderCertificatePdf(Facts(), Options("fr"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(CertificatePdfErrors, UnknownLanguageIsInvalidArgument) {
  CertifiedFacts f;
  f.participant_name = "Zoë Ñúñez-Çelik";
  f.verification_code = "CODE";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.issue_date = "2020-07-10";
  ASSERT_TRUE(RenderCertificatePdf(f, DocumentOptions{}).ok());
  for (const char* language : {"de", "", "EN", "en-GB", "fra"}) {
    DocumentOptions o;
    o.language = language;
    auto pdf = RenderCertificatePdf(f, o);
    ASSERT_FALSE(pdf.ok()) << language;
    EXPECT_EQ(pdf.status().code(), Code::kInvalidArgument) << language;
    EXPECT_EQ(pdf.status().field(), "language") << language;
  }
}

TEST(CertificatePdfErrors, FactsThatCannotBePrintedAreInvalidArgument) {
  CertifiedFacts good;
  good.verification_code = "CODE";
  good.event_start = "2020-07-09T08:00:00Z";
  good.event_end = "2020-07-09T09:45:00Z";
  good.issue_date = "2020-07-10";
  ASSERT_TRUE(RenderCertificatePdf(good, DocumentOptions{}).ok());
  struct Case {
    const char* field;
    void (*change)(CertifiedFacts&);
  };
  const Case cases[] = {
      {"event_start", [](CertifiedFacts& f) { f.event_start = "9 July 2020"; }},
      {"event_start", [](CertifiedFacts& f) { f.event_start = "2020-02-30T08:00:00Z"; }},
      {"event_start", [](CertifiedFacts& f) { f.event_start = "2020-07-09T24:00:00Z"; }},
      {"event_start", [](CertifiedFacts& f) { f.event_start = "2020-07-09T08:00:00"; }},
      {"event_end", [](CertifiedFacts& f) { f.event_end = ""; }},
      {"event_end", [](CertifiedFacts& f) { f.event_end = "2020-07-09T07:59:59Z"; }},
      {"issue_date", [](CertifiedFacts& f) { f.issue_date = "2020-07-10T00:00:00Z"; }},
      {"issue_date", [](CertifiedFacts& f) { f.issue_date = "10/07/2020"; }},
      {"qr_text", [](CertifiedFacts& f) { f.verification_code.clear(); }},
  };
  for (const Case& c : cases) {
    CertifiedFacts f = good;
    c.change(f);
    auto pdf = RenderCertificatePdf(f, DocumentOptions{});
    ASSERT_FALSE(pdf.ok()) << c.field;
    EXPECT_EQ(pdf.status().code(), Code::kInvalidArgument) << c.field;
    EXPECT_EQ(pdf.status().field(), c.field);
  }
  DocumentOptions too_long;
  too_long.qr_text = std::string(8000, 'x');
  EXPECT_EQ(RenderCertificatePdf(good, too_long).status().field(), "qr_text");
}

TEST(CertificatePdfErrors, MissingFontIsInternal) {
  CertifiedFacts f;
  f.verification_code = "CODE";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.issue_date = "2020-07-10";
  DocumentOptions o;
  o.font_path = "/nonexistent/DejaVuSans.ttf";
  auto pdf = RenderCertificatePdf(f, o);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kInternal) << pdf.status().ToString();
  o = DocumentOptions{};
  const std::filesystem::path not_a_font =
      std::filesystem::temp_directory_path() / ("ecd-not-a-font-" + std::to_string(getpid()));
  std::ofstream(not_a_font) << "not a font";
  o.bold_font_path = not_a_font.string();  // exists, but is no font
  EXPECT_EQ(RenderCertificatePdf(f, o).status().code(), Code::kInternal);
  std::filesystem::remove(not_a_font);
}

}  // namespace
}  // namespace ecd::certificates
