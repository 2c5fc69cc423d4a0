#include "common/text.hpp"

#include <glib.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace ecd {
namespace {

// The length of the UTF-8 sequence at `s[i]` and its code point, or 0 when it is not valid.
size_t DecodeOne(std::string_view s, size_t i, uint32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, *cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, *cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(i + k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  uint32_t cp;
  for (size_t i = 0; i < text.size();) {
    const size_t n = DecodeOne(text, i, &cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status CheckText(std::string_view value, std::string_view field, const TextRule& rule) {
  const std::string name(field);
  if (value.empty()) {
    return rule.required ? Status::InvalidArgument(name, "is required") : Status::Ok();
  }
  if (value.size() > rule.max_bytes) {
    return Status::InvalidArgument(name,
                                   "must be at most " + std::to_string(rule.max_bytes) + " bytes");
  }
  if (!IsValidUtf8(value)) return Status::InvalidArgument(name, "must be valid UTF-8");
  bool letter = false;
  uint32_t cp = 0;
  for (size_t i = 0; i < value.size();) {
    i += DecodeOne(value, i, &cp);
    const bool line_break = cp == '\n' || cp == '\r' || cp == '\t';
    if (cp == 0) return Status::InvalidArgument(name, "must not contain NUL characters");
    if ((cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) &&
        !(line_break && rule.kind == TextKind::kMultiLine)) {
      return Status::InvalidArgument(name, rule.kind == TextKind::kMultiLine
                                               ? "must not contain control characters"
                                               : "must be one line without control characters");
    }
    if (cp == 0x2028 || cp == 0x2029) {
      return Status::InvalidArgument(name, "must not contain line or paragraph separators");
    }
    if (rule.kind == TextKind::kName) {
      if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
        return Status::InvalidArgument(name,
                                       "must not contain bidirectional overrides or isolates");
      }
      if (g_unichar_isalpha(cp)) letter = true;
    }
  }
  if (rule.kind == TextKind::kName && !letter) {
    return Status::InvalidArgument(name, "must contain at least one letter");
  }
  if (Nfc(value) != value) {
    return Status::InvalidArgument(name, "must be in Unicode normalization form C (NFC)");
  }
  return Status::Ok();
}

std::string Nfc(std::string_view text) {
  if (!IsValidUtf8(text)) return "";
  // GLib stops at a NUL: the pieces between NULs are normalised each, and the NULs kept, so that
  // nothing is cut off here (the text rule refuses NULs by name).
  std::string out;
  for (size_t from = 0;;) {
    const size_t nul = std::min(text.find('\0', from), text.size());
    const std::string_view piece = text.substr(from, nul - from);
    std::unique_ptr<gchar, decltype(&g_free)> normal(
        g_utf8_normalize(piece.data(), static_cast<gssize>(piece.size()), G_NORMALIZE_NFC),
        &g_free);
    if (normal) out += normal.get();
    if (nul == text.size()) break;
    out.push_back('\0');
    from = nul + 1;
  }
  return out;
}

void NormaliseStrings(google::protobuf::Message* message) {
  using google::protobuf::FieldDescriptor;
  const auto* refl = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(*message, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*message, f); ++i) {
          NormaliseStrings(refl->MutableRepeatedMessage(message, f, i));
        }
      } else {
        NormaliseStrings(refl->MutableMessage(message, f));
      }
    } else if (f->type() == FieldDescriptor::TYPE_STRING) {
      auto normal = [](const std::string& s) { return IsValidUtf8(s) ? Nfc(s) : s; };
      if (f->is_repeated()) {
        for (int i = 0; i < refl->FieldSize(*message, f); ++i) {
          refl->SetRepeatedString(message, f, i, normal(refl->GetRepeatedString(*message, f, i)));
        }
      } else {
        refl->SetString(message, f, normal(refl->GetString(*message, f)));
      }
    }
  }
}

std::string Escaped(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  char buf[16];
  for (size_t i = 0; i < text.size();) {
    if (chars == max_chars) {
      out += "\u2026";
      break;
    }
    uint32_t cp = 0;
    const size_t n = DecodeOne(text, i, &cp);
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
      out += buf;
      ++i;
    } else {
      if (cp == '\n') {
        out += "\\n";
      } else if (cp == '\r') {
        out += "\\r";
      } else if (cp == '\t') {
        out += "\\t";
      } else if (cp == '\\') {
        out += "\\\\";
      } else if (cp < 0x20 || cp == 0x7F) {
        std::snprintf(buf, sizeof buf, "\\x%02x", cp);
        out += buf;
      } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029 ||
                 (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) {
        // C1 controls, line separators and bidi controls.
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        out += buf;
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    }
    ++chars;
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace ecd
