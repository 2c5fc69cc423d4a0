#include "services/certificates/document_fonts.hpp"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "services/certificates/document.hpp"

namespace ecd::certificates {
namespace document_detail {
namespace {

Status CheckFontFilesExist(const std::vector<std::string>& files) {
  if (files.empty()) return Status::Internal("no font files");
  for (const std::string& file : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      return Status::Internal("the font file " + file + " is missing");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<GPtr<PangoFontMap>> FontSet::Load(const std::vector<std::string>& files) {
  // Pango and Cairo fall back to fontconfig's current configuration in places; left alone, that
  // is the system's, which scans every font of the machine and, in a container whose user has no
  // writable cache directory, prints "No writable cache directories" on stderr. An empty
  // configuration stands in for it: only the fonts given here are ever used.
  static std::once_flag empty_current;
  std::call_once(empty_current, [] { FcConfigSetCurrent(FcConfigCreate()); });
  std::unique_ptr<FcConfig, decltype(&FcConfigDestroy)> config(FcConfigCreate(), &FcConfigDestroy);
  if (config == nullptr) return Status::Internal("fontconfig cannot create a configuration");
  FcConfigSetRescanInterval(config.get(), 0);
  for (const std::string& file : files) {
    auto fonts = [&] {
      const FcFontSet* set = FcConfigGetFonts(config.get(), FcSetApplication);
      return set == nullptr ? 0 : set->nfont;
    };
    const int before = fonts();
    // A file fontconfig cannot read adds no font, whether or not it says so.
    if (!FcConfigAppFontAddFile(config.get(), reinterpret_cast<const FcChar8*>(file.c_str())) ||
        fonts() == before) {
      return Status::Internal("cannot use the font file " + file + ": not a font");
    }
  }
  GPtr<PangoFontMap> map(pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT));
  if (map == nullptr) return Status::Internal("Pango has no FreeType font map");
  pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map.get()), config.get());  // its own reference
  return map;
}

StatusOr<std::shared_ptr<FontSet>> FontSet::Get(const std::vector<std::string>& files) {
  // Checked every time: a font file that went away is an error, not a certificate in boxes.
  ECD_RETURN_IF_ERROR(CheckFontFilesExist(files));
  static std::mutex mutex;
  // Never destroyed: renderings may still run while the process exits.
  static auto* cache = new std::map<std::vector<std::string>, std::shared_ptr<FontSet>>();
  std::lock_guard lock(mutex);
  if (auto it = cache->find(files); it != cache->end()) return it->second;
  ECD_ASSIGN_OR_RETURN(auto map, Load(files));
  // A handful of lists at most (the default one, tests'); those in use live on while used.
  if (cache->size() >= 8) cache->clear();
  auto set = std::make_shared<FontSet>(std::move(map));
  cache->emplace(files, set);
  return set;
}

GPtr<PangoContext> NewContext(PangoFontMap* map, const std::string& language) {
  GPtr<PangoContext> context(pango_font_map_create_context(map));
  pango_context_set_language(context.get(), pango_language_from_string(language.c_str()));
  // Glyph positions in fractions of a point: the PDF is not a pixel grid.
  pango_context_set_round_glyph_positions(context.get(), FALSE);
  return context;
}

std::optional<Cjk> CjkOf(const std::string& text) {
  bool han = false;
  for (const char* p = text.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
        (c >= 0xFF66 && c <= 0xFF9F)) {
      return Cjk{"Noto Sans CJK JP", "ja"};
    }
    if ((c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) ||
        (c >= 0xAC00 && c <= 0xD7AF)) {
      return Cjk{"Noto Sans CJK KR", "ko"};
    }
    han = han || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
          (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF);
  }
  if (han) return Cjk{"Noto Sans CJK SC", "zh-cn"};
  return std::nullopt;
}

}  // namespace document_detail

const std::vector<std::string>& DefaultFontFiles() {
  static const std::vector<std::string> kFiles = [] {
    std::vector<std::string> files;
    const std::string truetype = "/usr/share/fonts/truetype/noto/";
    // Noto Sans (Latin, Greek, Cyrillic) first: the family every text asks for.
    for (const char* script :
         {"",      "Arabic", "Hebrew",  "Devanagari", "Bengali",   "Gurmukhi", "Gujarati",
          "Oriya", "Tamil",  "Telugu",  "Kannada",    "Malayalam", "Sinhala",  "Thai",
          "Lao",   "Khmer",  "Myanmar", "Thaana",     "Georgian",  "Armenian", "Ethiopic"}) {
      for (const char* weight : {"Regular", "Bold"}) {
        files.push_back(truetype + "NotoSans" + script + "-" + weight + ".ttf");
      }
    }
    // Tibetan has no sans serif in Debian's Noto.
    files.push_back(truetype + "NotoSerifTibetan-Regular.ttf");
    files.push_back(truetype + "NotoSerifTibetan-Bold.ttf");
    // Chinese, Japanese, Korean: one collection per weight (the name is printed in bold).
    files.push_back("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    files.push_back("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc");
    return files;
  }();
  return kFiles;
}

}  // namespace ecd::certificates
