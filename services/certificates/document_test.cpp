#include "services/certificates/document.hpp"

#include <glib.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "services/certificates/payload.hpp"
#include "services/certificates/sample_facts_test.hpp"

namespace ecd::certificates {
namespace {

// These tests look at the PDF the way a reader would: poppler-utils (pdftotext, pdftoppm,
// pdfinfo, pdffonts) and zbar-tools (zbarimg), which scripts/deps.sh installs.

struct Output {
  int exit_code = -1;
  std::string text;    // stdout
  std::string errors;  // stderr
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Output RunCommand(const std::string& command) {
  Output out;
  char errors[] = "/tmp/ecd-cert-stderr-XXXXXX";
  const int fd = mkstemp(errors);
  if (fd < 0) return out;
  close(fd);
  FILE* pipe = popen((command + " 2>" + errors).c_str(), "r");
  if (pipe != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.text.append(buf, n);
    int status = pclose(pipe);
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  out.errors = ReadFile(errors);
  std::filesystem::remove(errors);
  return out;
}

// A poppler tool that must succeed and say nothing on stderr (no warnings about our PDFs).
Output Poppler(const std::string& command) {
  Output out = RunCommand(command);
  EXPECT_EQ(out.exit_code, 0) << command << "\n" << out.errors;
  EXPECT_EQ(out.errors, "") << command;
  return out;
}

// NFC, with every run of white space (line breaks, form feeds ...) one space, trimmed, and
// without the bidi embedding marks (U+202A-202E) pdftotext puts around right-to-left runs.
std::string Normalised(const std::string& text) {
  gchar* nfc = g_utf8_normalize(text.data(), static_cast<gssize>(text.size()), G_NORMALIZE_NFC);
  EXPECT_NE(nfc, nullptr) << "not UTF-8: " << text;
  if (nfc == nullptr) return "";
  std::string out;
  bool space = false;
  for (const gchar* p = nfc; *p != '\0'; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    if (c >= 0x202A && c <= 0x202E) continue;
    if (g_unichar_isspace(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out.append(p, static_cast<size_t>(g_utf8_next_char(p) - p));
  }
  g_free(nfc);
  return out;
}

long Characters(const std::string& s) { return g_utf8_strlen(s.c_str(), -1); }

std::string ArtefactsDir() {
  const char* env = std::getenv("ECD_TEST_ARTEFACTS");
  std::string dir = env != nullptr && *env != '\0' ? env : ECD_TEST_ARTEFACTS_DIR;
  std::filesystem::create_directories(dir);
  return dir;
}

// Rows of pdffonts: name, type, encoding, emb, sub, uni, object, ID.
std::vector<std::vector<std::string>> FontRows(const std::string& pdffonts) {
  std::istringstream lines(pdffonts);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  bool past_header = false;
  while (std::getline(lines, line)) {
    if (line.rfind("----", 0) == 0) {
      past_header = true;
      continue;
    }
    if (!past_header || line.empty()) continue;
    std::istringstream words(line);
    rows.emplace_back(std::istream_iterator<std::string>(words),
                      std::istream_iterator<std::string>());
  }
  return rows;
}

// The words of pdftotext -bbox: position in points from the top left corner, and text. Poppler
// makes a word of each right-to-left character (drawn leftwards), so their positions show the
// visual order.
struct Word {
  double x0, y0, x1, y1;
  std::string text;
};
std::vector<Word> Words(const std::string& bbox_html) {
  std::vector<Word> words;
  std::regex word(
      R"re(<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>)re");
  for (std::sregex_iterator it(bbox_html.begin(), bbox_html.end(), word), end; it != end; ++it) {
    words.push_back({std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]),
                     std::stod((*it)[4]), (*it)[5]});
  }
  return words;
}
bool IsArabic(const std::string& s) {
  const gunichar c = g_utf8_get_char(s.c_str());
  return c >= 0x0600 && c <= 0x06FF;
}

constexpr const char* kSalt = "q3Rz0bX-9_kWmYp1LcVdTg";

Holder Zoe() { return Holder{"Zoë Ñúñez-Çelik", kSalt}; }

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

  // A version 2 payload: the name is not in it, only in the holder's part.
  static CertifiedFacts Facts() {
    CertifiedFacts f = SampleFacts("fr");
    f.version = 2;
    f.participant_name.clear();
    f.name_commitment = "bm90IGEgcmVhbCBjb21taXRtZW50IGJ1dCBjbG9zZQ";
    return f;
  }

  static DocumentOptions Options(const std::string& language) {
    DocumentOptions o;
    o.language = language;
    o.qr_text = "https://certificates.example.org/verify/7KQ2-M9XD-44TB";
    return o;
  }

  // Renders and writes the PDF; its path, or "" (with a failure) if rendering failed.
  std::string Render(const CertifiedFacts& facts, const Holder& holder,
                     const DocumentOptions& options) {
    auto pdf = RenderCertificatePdf(facts, holder, options);
    EXPECT_TRUE(pdf.ok()) << holder.name << ": " << pdf.status().ToString();
    if (!pdf.ok()) return "/nonexistent.pdf";
    std::string path = dir_ + "/certificate-" + std::to_string(++count_) + ".pdf";
    std::ofstream(path, std::ios::binary) << *pdf;
    return path;
  }

  // The text layer in reading order (pdftotext's default mode, which puts right-to-left runs
  // back in logical order).
  static std::string Text(const std::string& pdf) {
    return Poppler("pdftotext -enc UTF-8 " + pdf + " -").text;
  }

  // What zbarimg reads in the page rendered at 150 dpi, without the newline it adds.
  std::string DecodeQr(const std::string& pdf) {
    const std::string png = dir_ + "/page-" + std::to_string(++count_);
    Poppler("pdftoppm -r 150 -png -singlefile " + pdf + " " + png);
    Output out = RunCommand("zbarimg --raw -q " + png + ".png");
    EXPECT_EQ(out.exit_code, 0) << "zbarimg found no code";
    if (!out.text.empty() && out.text.back() == '\n') out.text.pop_back();
    return out.text;
  }

  std::string dir_;
  int count_ = 0;
};

TEST_F(CertificatePdf, IsOnePageA4LandscapePdf) {
  auto pdf = RenderCertificatePdf(Facts(), Zoe(), Options("en"));
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  EXPECT_EQ(pdf->rfind("%PDF-", 0), 0u);
  EXPECT_NE(pdf->find("%%EOF", pdf->size() - 16), std::string::npos);
  const std::string path = Render(Facts(), Zoe(), Options("en"));
  Output info = Poppler("pdfinfo -isodates " + path);
  EXPECT_TRUE(std::regex_search(info.text, std::regex(R"(\nPages:\s+1\n)"))) << info.text;
  EXPECT_TRUE(std::regex_search(info.text, std::regex(R"(\nPage size:\s+841\.89 x 595\.276 pts)")))
      << info.text;
  // Metadata in UTF-8 too, and a creation date that is the issue date (reproducible output).
  EXPECT_NE(info.text.find("Title:           Certificate of participation – Zoë Ñúñez-Çelik\n"),
            std::string::npos)
      << info.text;
  EXPECT_NE(info.text.find("Subject:         Webinar with the countries of Africa (English)\n"),
            std::string::npos)
      << info.text;
  EXPECT_NE(info.text.find("Keywords:        ECD-2020-0709-4F2K-9QXM\n"), std::string::npos);
  EXPECT_NE(info.text.find("Author:          Council of Europe, with EU Cyber Direct\n"),
            std::string::npos);
  EXPECT_NE(info.text.find("Creator:         ECD events certificates\n"), std::string::npos);
  EXPECT_NE(info.text.find("CreationDate:    2020-07-10T00:00:00Z\n"), std::string::npos)
      << info.text;
}

TEST_F(CertificatePdf, TheTitleIsolatesARightToLeftNameInItsSentence) {
  Output info = Poppler("pdfinfo " + Render(Facts(), {"محمد بن سلمان", kSalt}, Options("fr")));
  EXPECT_NE(info.text.find("Title:           Certificat de participation – \u2068محمد بن "
                           "سلمان\u2069\n"),
            std::string::npos)
      << info.text;
}

TEST_F(CertificatePdf, PrintsTheHoldersNameNotAnOldPayloadsName) {
  CertifiedFacts f = Facts();
  f.participant_name = "Somebody Else";
  const std::string text = Text(Render(f, Zoe(), Options("en")));
  EXPECT_NE(text.find("\nZoë Ñúñez-Çelik\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("Somebody Else"), std::string::npos) << text;
}

TEST_F(CertificatePdf, OnlyEmbeddedSubsetsOfTheDocumentsFonts) {
  for (const Holder& holder : {Zoe(), Holder{"李小龙", kSalt}, Holder{"محمد بن سلمان", kSalt}}) {
    Output fonts = Poppler("pdffonts " + Render(Facts(), holder, Options("en")));
    const auto rows = FontRows(fonts.text);
    // Regular and bold Noto Sans at least; the name's script adds its own.
    EXPECT_GE(rows.size(), 2u) << fonts.text;
    for (const auto& w : rows) {
      ASSERT_GE(w.size(), 7u) << fonts.text;
      EXPECT_TRUE(std::regex_match(w[0], std::regex("[A-Z]{6}\\+Noto.*")))
          << "not a subset: " << w[0];
      EXPECT_EQ(w[w.size() - 5], "yes") << "not embedded: " << w[0];  // the "emb" column
      EXPECT_EQ(w[w.size() - 4], "yes") << "not a subset: " << w[0];  // the "sub" column
      EXPECT_EQ(w[w.size() - 3], "yes") << "no ToUnicode: " << w[0];  // the "uni" column
    }
  }
}

struct Script {
  const char* script;
  const char* name;
  // Written without spaces between words: pdftotext may put some where clusters start with a
  // glyph drawn before the previous one's end (Myanmar's medial ra), so spaces are not compared.
  bool without_spaces = false;
};
std::string WithoutSpaces(const std::string& s) {
  std::string out;
  for (char c : Normalised(s)) {
    if (c != ' ') out += c;
  }
  return out;
}

// Names in every script the default fonts cover, as their holders write them.
const Script kScripts[] = {
    {"Latin", "Zoë Ñúñez-Çelik"},
    {"Latin (Vietnamese)", "Nguyễn Thị Minh Khai"},
    {"Latin (Polish, Czech)", "Łukasz Żółć-Štěpánková"},
    {"Greek", "Γεώργιος Παπαδόπουλος"},
    {"Cyrillic", "Олена Шевченко-Ковальчук"},
    {"Arabic", "محمد بن سلمان"},
    {"Hebrew", "שרה כהן"},
    {"Devanagari", "अमिताभ बच्चन"},
    {"Bengali", "রবীন্দ্রনাথ ঠাকুর"},
    {"Thai", "สมชาย ใจดี"},
    {"Khmer", "សុខ សុភា"},
    {"Chinese", "李小龙"},
    {"Japanese", "田中 さくら"},
    {"Korean", "김연아"},
    {"Georgian", "ნინო ბურჯანაძე"},
    {"Armenian", "Արամ Խաչատրյան"},
    {"Ethiopic (Amharic)", "አበበ ቢቂላ"},
    {"Tamil", "முத்துலட்சுமி ரெட்டி"},
    {"Sinhala", "සුනිල් පෙරේරා"},
    {"Myanmar", "အောင်ဆန်းစုကြည်", true},
    {"Mixed direction", "Sarah Cohen שרה כהן"},
};

TEST_F(CertificatePdf, NamesInEveryScriptComeBackFromTheTextLayer) {
  const char* languages[] = {"en", "fr", "es"};
  int k = 0;
  for (const Script& s : kScripts) {
    const Holder holder{s.name, kSalt};
    const std::string language = languages[k++ % 3];
    auto unknown = UnknownGlyphs(s.name, Options(language));
    ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
    EXPECT_EQ(*unknown, 0) << s.script << ": " << s.name;
    const std::string pdf = Render(Facts(), holder, Options(language));
    if (s.without_spaces) {
      EXPECT_NE(WithoutSpaces(Text(pdf)).find(WithoutSpaces(s.name)), std::string::npos)
          << s.script << ": " << s.name << " not in\n"
          << Text(pdf);
    } else {
      EXPECT_NE(Normalised(Text(pdf)).find(Normalised(s.name)), std::string::npos)
          << s.script << ": " << s.name << " not in\n"
          << Text(pdf);
    }
    for (const auto& row : FontRows(Poppler("pdffonts " + pdf).text)) {
      ASSERT_GE(row.size(), 7u);
      EXPECT_EQ(row[row.size() - 5], "yes") << s.script << ": not embedded: " << row[0];
    }
    Poppler("pdftoppm -r 30 -png -singlefile " + pdf + " " + dir_ + "/raster");
  }
}

TEST_F(CertificatePdf, AHundredAndTwentyCharacterNameStaysOnOneLine) {
  const std::string name =
      "María de los Ángeles Fernández-Castañeda y Ñúñez-Çelik de la Santísima Trinidad "
      "Zoë Ngozi Okonjo-Iweala Nguyễn Thị Huyền";
  ASSERT_EQ(Characters(name), 120);
  auto unknown = UnknownGlyphs(name, Options("es"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, 0);
  const std::string pdf = Render(Facts(), {name, kSalt}, Options("es"));
  EXPECT_NE(Text(pdf).find("\n" + name + "\n"), std::string::npos) << Text(pdf);
  for (const auto& row : FontRows(Poppler("pdffonts " + pdf).text)) {
    EXPECT_EQ(row[row.size() - 5], "yes") << row[0];
  }
}

// A sentence that mixes directions, and a right-to-left name with a Latin part, laid out by the
// bidi algorithm: the Arabic runs right to left, "(Maroc)" after them in the French sentence and
// before them (to the left) on the name's right-to-left line.
TEST_F(CertificatePdf, MixedDirectionLinesAreLaidOutRightToLeftWhereTheyShouldBe) {
  CertifiedFacts f = Facts();
  f.event_title = "a participé : محمد بن سلمان (Maroc)";
  const std::string pdf = Render(f, {"محمد بن سلمان (Maroc)", kSalt}, Options("en"));
  const std::vector<Word> words = Words(Poppler("pdftotext -bbox -enc UTF-8 " + pdf + " -").text);
  std::vector<Word> arabic;
  for (const Word& w : words) {
    if (IsArabic(w.text)) arabic.push_back(w);
  }
  std::sort(arabic.begin(), arabic.end(), [](const Word& a, const Word& b) { return a.y0 < b.y0; });
  // Two lines of Arabic letters: the name's, then the title's.
  std::vector<std::vector<Word>> lines;
  for (const Word& w : arabic) {
    if (lines.empty() || w.y0 > lines.back().front().y0 + 5) lines.emplace_back();
    lines.back().push_back(w);
  }
  ASSERT_EQ(lines.size(), 2u) << arabic.size() << " Arabic letters";
  for (auto& line : lines) {
    // Right to left: from the right, the letters in logical order.
    std::sort(line.begin(), line.end(), [](const Word& a, const Word& b) { return a.x0 > b.x0; });
    std::string letters;
    for (const Word& w : line) letters += w.text;
    EXPECT_EQ(letters, "محمدبنسلمان");
  }
  auto on_line = [&](const std::vector<Word>& line, const std::string& text) -> const Word* {
    for (const Word& w : words) {
      const double middle = (w.y0 + w.y1) / 2;
      if (w.text.find(text) != std::string::npos && middle > line.front().y0 &&
          middle < line.front().y1) {
        return &w;
      }
    }
    return nullptr;
  };
  auto left_of_arabic = [](const std::vector<Word>& line) {
    double x = 1e9;
    for (const Word& w : line) x = std::min(x, w.x0);
    return x;
  };
  auto right_of_arabic = [](const std::vector<Word>& line) {
    double x = 0;
    for (const Word& w : line) x = std::max(x, w.x1);
    return x;
  };
  // The name's line is right to left: "(Maroc)" comes last, on the left.
  const Word* maroc = on_line(lines[0], "Maroc");
  ASSERT_NE(maroc, nullptr);
  EXPECT_LE(maroc->x1, left_of_arabic(lines[0]));
  // The title's line is left to right: "a participé :", the Arabic name, "(Maroc)".
  const Word* participe = on_line(lines[1], "participé");
  maroc = on_line(lines[1], "Maroc");
  ASSERT_NE(participe, nullptr);
  ASSERT_NE(maroc, nullptr);
  EXPECT_EQ(maroc->text, "(Maroc)");
  EXPECT_LE(participe->x1, left_of_arabic(lines[1]));
  EXPECT_GE(maroc->x0, right_of_arabic(lines[1]));
  // And the Arabic name comes out of the text layer in logical order, on both lines.
  const std::string text = Normalised(Text(pdf));
  const size_t first = text.find("محمد بن سلمان");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.find("محمد بن سلمان", first + 1), std::string::npos) << text;
}

// Arabic joined and right to left, Chinese as glyphs rather than boxes: a person looks at these
// (they are kept, see ArtefactsDir()); the test checks that they exist and are not blank.
TEST_F(CertificatePdf, RasterisedArabicAndChineseCertificatesAreKept) {
  const std::string dir = ArtefactsDir();
  for (const auto& [file, name] : {std::pair{"certificate-arabic", "محمد بن سلمان"},
                                   {"certificate-chinese", "李小龙"},
                                   {"certificate-mixed", "محمد بن سلمان (Maroc)"}}) {
    const std::string png = dir + "/" + file;
    std::filesystem::remove(png + ".png");
    Poppler("pdftoppm -png -r 60 -singlefile " + Render(Facts(), {name, kSalt}, Options("fr")) +
            " " + png);
    ASSERT_TRUE(std::filesystem::exists(png + ".png")) << png;
    EXPECT_GT(std::filesystem::file_size(png + ".png"), 20000u) << png;
  }
}

TEST_F(CertificatePdf, ANameNoFontCanDrawIsInvalidArgument) {
  for (const char* name : {"Zoë \uE000 Çelik",  // private use
                           "Linear B 𐀀",        // U+10000, in no Noto file here
                           "\U0001F600"}) {     // an emoji: no colour font among ours
    auto unknown = UnknownGlyphs(name, Options("en"));
    ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
    EXPECT_GT(*unknown, 0) << name;
    auto pdf = RenderCertificatePdf(Facts(), {name, kSalt}, Options("en"));
    ASSERT_FALSE(pdf.ok()) << name;
    EXPECT_EQ(pdf.status().code(), Code::kInvalidArgument) << name;
    EXPECT_EQ(pdf.status().field(), "participant_name") << name;
  }
  for (const char* name : {"", "   ", "Zoë\nÇelik", "Zoë\tÇelik", "Zoë\u2029Çelik", "\xC3\x28"}) {
    auto pdf = RenderCertificatePdf(Facts(), {name, kSalt}, Options("en"));
    ASSERT_FALSE(pdf.ok()) << name;
    EXPECT_EQ(pdf.status().field(), "participant_name") << name;
  }
}

// The fonts are the document's files and nothing else, whatever the machine has installed.
TEST_F(CertificatePdf, OnlyTheGivenFontFilesAreUsed) {
  DocumentOptions latin = Options("en");
  latin.font_files = {"/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
                      "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"};
  auto unknown = UnknownGlyphs("محمد", latin);
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(*unknown, 4);
  EXPECT_EQ(*UnknownGlyphs("Zoë Ñúñez-Çelik", latin), 0);
  EXPECT_EQ(RenderCertificatePdf(Facts(), {"محمد", kSalt}, latin).status().field(),
            "participant_name");
  // Each file as a simple (WinAnsi) and a composite (Identity-H) subset, as Cairo does.
  const auto rows = FontRows(Poppler("pdffonts " + Render(Facts(), Zoe(), latin)).text);
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    EXPECT_TRUE(std::regex_match(row[0], std::regex("[A-Z]{6}\\+NotoSans-(Regular|Bold)")))
        << row[0];
  }
  EXPECT_EQ(*UnknownGlyphs("محمد", Options("en")), 0);  // the default files have Arabic
}

// Chinese, Japanese and Korean share the Han characters, and the font collection has a face for
// each: kana or hangul in the name choose it, Han alone is Chinese.
TEST_F(CertificatePdf, HanIsDrawnInTheFaceOfTheNamesLanguage) {
  for (const auto& [name, face] : {std::pair{"李小龙", "NotoSansCJKsc-Bold"},
                                   {"田中 さくら", "NotoSansCJKjp-Bold"},
                                   {"김연아", "NotoSansCJKkr-Bold"},
                                   {"金妍兒 김연아", "NotoSansCJKkr-Bold"}}) {
    const auto rows =
        FontRows(Poppler("pdffonts " + Render(Facts(), {name, kSalt}, Options("en"))).text);
    int cjk = 0;
    for (const auto& row : rows) {
      if (row[0].find("CJK") == std::string::npos) continue;
      ++cjk;
      EXPECT_NE(row[0].find(std::string("+") + face), std::string::npos) << name << ": " << row[0];
    }
    EXPECT_EQ(cjk, 1) << name;
  }
}

TEST_F(CertificatePdf, AccentedNamesComeOutExactlyInEveryLanguage) {
  for (const char* name : {"Zoë Ñúñez-Çelik", "Ngozi Okonjo-Iweala", "Łukasz Żółć-Štěpánková"}) {
    for (const char* language : {"en", "fr", "es"}) {
      const std::string text = Text(Render(Facts(), {name, kSalt}, Options(language)));
      EXPECT_NE(text.find(std::string(name) + "\n"), std::string::npos)
          << name << " in " << language << ":\n"
          << text;
    }
  }
}

TEST_F(CertificatePdf, TheNameProofIsInTheTextLayer) {
  for (const auto& [language, line] : {std::pair{"en", "Name proof: "},
                                       {"fr", "Preuve du nom : "},
                                       {"es", "Prueba del nombre: "}}) {
    const std::string text = Text(Render(Facts(), Zoe(), Options(language)));
    EXPECT_NE(text.find(std::string(line) + kSalt + "\n"), std::string::npos) << text;
  }
  // A version 1 certificate has no salt: no line for it.
  CertifiedFacts v1 = SampleFacts("fr");
  v1.version = 1;
  const std::string text = Text(Render(v1, {v1.participant_name, ""}, Options("en")));
  EXPECT_EQ(text.find("Name proof"), std::string::npos) << text;
  EXPECT_NE(text.find("Zoë Ñúñez-Çelik"), std::string::npos) << text;
  EXPECT_EQ(
      RenderCertificatePdf(Facts(), {"Zoë", "not base64url!"}, Options("en")).status().field(),
      "salt");
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
        "Council of Europe, with EU Cyber Direct", "Issued on 10 July 2020", "Scan to verify",
        "This project is funded by the European Union."},
       {"Certificat de participation", "Certificado de participación"}},
      {"fr",
       {"Certificat de participation", "Le Conseil de l'Europe certifie que",
        "a participé au webinaire", "de la série « Cybercrime and criminal justice in cyberspace »",
        "le 9 juillet 2020, de 08:00 à 09:45 UTC (100 minutes)", "Langue : français",
        "Conseil de l'Europe, avec EU Cyber Direct", "Délivré le 10 juillet 2020",
        "Scannez pour vérifier", "Ce projet est financé par l'Union européenne."},
       {"Certificate of participation", "Certificado de participación"}},
      {"es",
       {"Certificado de participación", "El Consejo de Europa certifica que",
        "el 9 de julio de 2020, de 08:00 a 09:45 UTC (100 minutos)", "Idioma: francés",
        "Consejo de Europa, con EU Cyber Direct", "Expedido el 10 de julio de 2020",
        "Escanee para verificar", "Este proyecto está financiado por la Unión Europea."},
       {"Certificate of participation", "Certificat de participation"}},
  };
  for (const Want& want : wants) {
    const std::string text = Text(Render(Facts(), Zoe(), Options(want.language)));
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
  EXPECT_NE(Text(Render(f, Zoe(), Options("en")))
                .find("from 30 June 2020, 23:30 to 1 July 2020, 00:45 UTC (75 minutes)"),
            std::string::npos);
  const std::string fr = Text(Render(f, Zoe(), Options("fr")));
  EXPECT_NE(fr.find("du 30 juin 2020, 23:30, au 1er juillet 2020, 00:45 UTC (75 minutes)"),
            std::string::npos)
      << fr;
  EXPECT_NE(fr.find("Délivré le 1er juillet 2020"), std::string::npos) << fr;
  f.event_start = "2020-07-01T00:44:00Z";
  f.duration_minutes = 1;
  EXPECT_NE(Text(Render(f, Zoe(), Options("es"))).find("de 00:44 a 00:45 UTC (1 minuto)"),
            std::string::npos);
}

TEST_F(CertificatePdf, AnotherIssuerIsPrintedAsItIs) {
  CertifiedFacts f = Facts();
  f.issuer = "Conseil de l'Europe — Division de la cybercriminalité";
  EXPECT_NE(Text(Render(f, Zoe(), Options("es"))).find(f.issuer), std::string::npos);
}

TEST_F(CertificatePdf, LineBreaksInTheFactsBecomeSpaces) {
  CertifiedFacts f = Facts();
  f.event_title = "Webinar with\nthe countries\u2029of Africa";
  f.series_title = "Cybercrime\tand criminal justice";
  const std::string text = Text(Render(f, Zoe(), Options("en")));
  EXPECT_NE(text.find("Webinar with the countries of Africa\n"), std::string::npos) << text;
  EXPECT_NE(text.find("in the series “Cybercrime and criminal justice”"), std::string::npos)
      << text;
}

TEST_F(CertificatePdf, QrCodeDecodesToTheQrText) {
  for (const char* language : {"en", "fr", "es"}) {
    DocumentOptions o = Options(language);
    EXPECT_EQ(DecodeQr(Render(Facts(), Zoe(), o)), o.qr_text) << language;
  }
  DocumentOptions code_only = Options("en");
  code_only.qr_text = "7KQ2-M9XD-44TB";
  EXPECT_EQ(DecodeQr(Render(Facts(), {"李小龙", kSalt}, code_only)), "7KQ2-M9XD-44TB");
  // A long URL means a denser code: still readable at 150 dpi.
  DocumentOptions long_url = Options("en");
  long_url.qr_text =
      "https://certificates.eucyberdirect.example.org/v1/verify?code=7KQ2-M9XD-44TB"
      "&serial=ECD-2020-0709-4F2K-9QXM&lang=en";
  EXPECT_EQ(DecodeQr(Render(Facts(), {"محمد بن سلمان", kSalt}, long_url)), long_url.qr_text);
}

TEST_F(CertificatePdf, WithoutQrTextTheCodeCarriesTheVerificationCode) {
  DocumentOptions o = Options("en");
  o.qr_text.clear();
  EXPECT_EQ(DecodeQr(Render(Facts(), Zoe(), o)), Facts().verification_code);
}

TEST_F(CertificatePdf, LongNamesAndTitlesStayOnThePage) {
  CertifiedFacts f = Facts();
  f.event_title =
      "Regional webinar with the countries of Latin America and the Caribbean on "
      "electronic evidence, international cooperation and the Second Additional "
      "Protocol to the Convention on Cybercrime (Spanish, with interpretation)";
  const std::string name =
      "María de los Ángeles Fernández-Castañeda y Ñúñez-Çelik de la Santísima Trinidad Zoë";
  // And a name too long for any reasonable size, which must still keep its one line rather than
  // run into the line below.
  for (const std::string& n : {name, name + " " + name, name + " محمد بن سلمان"}) {
    const std::string path = Render(f, {n, kSalt}, Options("es"));
    const std::string text = Text(path);
    EXPECT_NE(Normalised(text).find(Normalised(n)), std::string::npos) << text;
    EXPECT_NE(text.find("(Spanish, with interpretation)"), std::string::npos) << text;
    EXPECT_TRUE(
        std::regex_search(Poppler("pdfinfo " + path).text, std::regex(R"(\nPages:\s+1\n)")));
    // Every word inside the frame (22 pt from the edges).
    Output boxes = Poppler("pdftotext -bbox -enc UTF-8 " + path + " -");
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
  for (const Holder& holder : {Zoe(), Holder{"李小龙", kSalt}, Holder{"محمد بن سلمان", kSalt}}) {
    auto a = RenderCertificatePdf(Facts(), holder, Options("fr"));
    auto b = RenderCertificatePdf(Facts(), holder, Options("fr"));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(*a == *b) << holder.name;
  }
}

// Several requests render at once: each gets the bytes it would get alone.
TEST_F(CertificatePdf, ConcurrentRenderingsGiveTheSameBytesAsSequentialOnes) {
  std::vector<std::string> names;
  for (const Script& s : kScripts) names.push_back(s.name);
  std::vector<std::string> alone;
  for (const std::string& name : names) {
    auto pdf = RenderCertificatePdf(Facts(), {name, kSalt}, Options("en"));
    ASSERT_TRUE(pdf.ok()) << name;
    alone.push_back(*pdf);
  }
  std::vector<std::string> together(names.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < names.size(); i += 4) {
        auto pdf = RenderCertificatePdf(Facts(), {names[i], kSalt}, Options("en"));
        auto unknown = UnknownGlyphs(names[i], Options("en"));
        if (pdf.ok() && unknown.ok() && *unknown == 0) together[i] = *pdf;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < names.size(); ++i) EXPECT_TRUE(together[i] == alone[i]) << names[i];
}

TEST(CertificatePdfErrors, UnknownLanguageIsInvalidArgument) {
  CertifiedFacts f;
  f.verification_code = "CODE";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.issue_date = "2020-07-10";
  ASSERT_TRUE(RenderCertificatePdf(f, Zoe(), DocumentOptions{}).ok());
  for (const char* language : {"de", "", "EN", "en-GB", "fra"}) {
    DocumentOptions o;
    o.language = language;
    auto pdf = RenderCertificatePdf(f, Zoe(), o);
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
  ASSERT_TRUE(RenderCertificatePdf(good, Zoe(), DocumentOptions{}).ok());
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
      {"event_title", [](CertifiedFacts& f) { f.event_title = "Webinar \xFF"; }},
  };
  for (const Case& c : cases) {
    CertifiedFacts f = good;
    c.change(f);
    auto pdf = RenderCertificatePdf(f, Zoe(), DocumentOptions{});
    ASSERT_FALSE(pdf.ok()) << c.field;
    EXPECT_EQ(pdf.status().code(), Code::kInvalidArgument) << c.field;
    EXPECT_EQ(pdf.status().field(), c.field);
  }
  DocumentOptions too_long;
  too_long.qr_text = std::string(8000, 'x');
  EXPECT_EQ(RenderCertificatePdf(good, Zoe(), too_long).status().field(), "qr_text");
}

TEST(CertificatePdfErrors, MissingFontIsInternal) {
  CertifiedFacts f;
  f.verification_code = "CODE";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.issue_date = "2020-07-10";
  DocumentOptions o;
  o.font_files = DefaultFontFiles();
  o.font_files.push_back("/nonexistent/NotoSans-Regular.ttf");
  auto pdf = RenderCertificatePdf(f, Zoe(), o);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kInternal) << pdf.status().ToString();
  EXPECT_EQ(UnknownGlyphs("Zoë", o).status().code(), Code::kInternal);
  const std::filesystem::path not_a_font =
      std::filesystem::temp_directory_path() / ("ecd-not-a-font-" + std::to_string(getpid()));
  std::ofstream(not_a_font) << "not a font";
  o.font_files = {"/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", not_a_font.string()};
  EXPECT_EQ(RenderCertificatePdf(f, Zoe(), o).status().code(), Code::kInternal);
  std::filesystem::remove(not_a_font);
}

TEST(CertificatePdfErrors, EveryDefaultFontFileIsInstalled) {
  ASSERT_FALSE(DefaultFontFiles().empty());
  for (const std::string& file : DefaultFontFiles()) {
    EXPECT_TRUE(std::filesystem::is_regular_file(file)) << file << " (scripts/deps.sh)";
  }
}

}  // namespace
}  // namespace ecd::certificates
