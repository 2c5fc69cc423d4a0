#pragma once
// The document's fonts: a private fontconfig configuration that holds the document's font files
// and nothing else, and the Pango font map built on it.
#include <pango/pango.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace ecd::certificates::document_detail {

// The family every text asks for. Whatever it lacks (Arabic, Chinese ...) comes from the other
// files through fontconfig's fallback, and only from them.
inline constexpr const char* kFamily = "Noto Sans";

template <class T>
struct GObjectUnref {
  void operator()(T* p) const { g_object_unref(p); }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref<T>>;

// Pango font maps, and the fonts, shapers and caches they hold, are not thread safe: each font
// set has a mutex, held while anything is laid out or drawn with its font map, up to and
// including the writing of the PDF (which subsets the fonts).
class FontSet {
 public:
  // The font set of `files`, loaded once per list and cached.
  static StatusOr<std::shared_ptr<FontSet>> Get(const std::vector<std::string>& files);

  explicit FontSet(GPtr<PangoFontMap> map) : map_(std::move(map)) {}
  std::mutex& mutex() { return mutex_; }
  PangoFontMap* map() const { return map_.get(); }

 private:
  static StatusOr<GPtr<PangoFontMap>> Load(const std::vector<std::string>& files);

  std::mutex mutex_;
  GPtr<PangoFontMap> map_;
};

// A Pango context of `map` for text in `language`.
GPtr<PangoContext> NewContext(PangoFontMap* map, const std::string& language);

// Han characters look different in Chinese, Japanese and Korean, and one font file holds the
// three (every face covering the same characters): the text's kana or hangul decide which face,
// and its language; Han alone is taken as Chinese (simplified forms).
struct Cjk {
  const char* family;
  const char* language;
};
std::optional<Cjk> CjkOf(const std::string& text);

}  // namespace ecd::certificates::document_detail
