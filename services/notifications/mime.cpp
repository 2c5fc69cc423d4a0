#include "services/notifications/mime.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace ecd::notifications::mime {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHex[] = "0123456789ABCDEF";

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool PrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// The length of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte, so
// that malformed input still moves forward).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

// Splits `text` into pieces of at most `max_bytes` bytes without cutting a UTF-8 character.
std::vector<std::string_view> SplitUtf8(std::string_view text, size_t max_bytes) {
  std::vector<std::string_view> pieces;
  size_t begin = 0, i = 0;
  while (i < text.size()) {
    const size_t n = std::min(SequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    if (i + n - begin > max_bytes && i > begin) {
      pieces.push_back(text.substr(begin, i - begin));
      begin = i;
    }
    i += n;
  }
  if (begin < text.size()) pieces.push_back(text.substr(begin));
  return pieces;
}

bool AttrChar(unsigned char c) {
  // RFC 2231 attribute-char, as RFC 5987 lists it.
  return std::isalnum(c) ||
         std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 2231's extended value: attr-chars as they are, every other byte as %XX.
std::string Rfc2231Encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (AttrChar(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool TokenChar(unsigned char c) {
  return c > 0x20 && c < 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && s.size() <= 127 &&
         std::all_of(s.begin(), s.end(), [](char c) { return TokenChar(c); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string EncodeHeader(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  // A long line is folded by encoding it too (998 characters is the limit of a line).
  if (PrintableAscii(line) && line.size() <= 900) return line;
  std::string out;
  // 39 bytes give 52 base64 characters: "=?UTF-8?B?" + 52 + "?=" is 64, so that even the
  // first line ("Subject: " and a word) stays within 76.
  for (const auto piece : SplitUtf8(line, 39)) {
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(piece) + "?=";
  }
  return out;
}

std::string Mailbox(std::string_view display_name, std::string_view address,
                    size_t header_name_length) {
  const auto one_line = [](std::string_view in) {
    std::string out(in);
    for (char& c : out) {
      if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    }
    return out;
  };
  const std::string addr = "<" + one_line(address) + ">";
  std::string name = one_line(display_name);
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  if (name.empty()) return addr;
  // RFC 5322 atext, and the spaces between atoms.
  const auto atom_or_space = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
  };
  // "=?" in plain text could be taken for an encoded word (even inside quotes, by lenient
  // readers): such a name is encoded too.
  const bool ascii =
      PrintableAscii(name) && name.size() <= 900 && name.find("=?") == std::string::npos;
  std::string phrase;
  size_t line = header_name_length + 2;  // "To: "
  if (ascii) {
    const bool atoms = std::all_of(name.begin(), name.end(), atom_or_space);
    std::string text = atoms ? "" : "\"";
    for (char c : name) {
      if (!atoms && (c == '"' || c == '\\')) text += '\\';
      text += c;
    }
    if (!atoms) text += '"';
    // Folded at a space (FWS, within a quoted string too) before a line would pass 78.
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == ' ') {
        size_t next = text.find(' ', i + 1);
        if (next == std::string::npos) next = text.size();
        if (line + (next - i) > 78 && line > 1) {
          phrase += "\r\n";
          line = 0;
        }
      }
      phrase += text[i];
      ++line;
    }
  } else {
    // Encoded words (base64 of UTF-8), which a phrase may hold (RFC 2047 section 5 (3)); a
    // reader joins adjacent words without the space between them (section 6.2), so each piece
    // carries its own spaces, and ends after one where it can (kinder to readers that do not).
    std::string_view rest(name);
    while (!rest.empty()) {
      std::string_view piece = SplitUtf8(rest, 39).front();
      if (piece.size() < rest.size()) {
        const size_t space = piece.rfind(' ');
        if (space != std::string_view::npos && space > 0) piece = piece.substr(0, space + 1);
      }
      if (!phrase.empty()) {
        phrase += "\r\n ";
        line = 1;
      }
      const std::string word = "=?UTF-8?B?" + Base64(piece) + "?=";
      phrase += word;
      line += word.size();
      rest.remove_prefix(piece.size());
    }
  }
  return phrase + (line + 1 + addr.size() > 78 ? "\r\n " : " ") + addr;
}

std::string QuotedPrintable(std::string_view text) {
  std::string out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string encoded_line;
    size_t width = 0;
    auto emit = [&](const std::string& token) {
      if (width + token.size() > 75) {  // a soft break "=" keeps every line within 76
        encoded_line += "=\r\n";
        width = 0;
      }
      encoded_line += token;
      width += token.size();
    };
    for (size_t i = 0; i < line.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      const bool at_end = i + 1 == line.size();
      // "From " at the start of a line is mangled by mbox stores; a leading "." is the end of an
      // SMTP message (libcurl escapes it, but other relays may not be as careful).
      const bool guarded =
          width == 0 && i == 0 && (c == '.' || (c == 'F' && line.substr(0, 5) == "From "));
      if ((c >= 33 && c <= 126 && c != '=' && !guarded) || ((c == ' ' || c == '\t') && !at_end)) {
        emit(std::string(1, static_cast<char>(c)));
      } else {
        emit(std::string{'=', kHex[c >> 4], kHex[c & 15]});
      }
    }
    out += encoded_line;
    if (last) break;
    out += "\r\n";
    begin = end + 1;
  }
  return out;
}

std::string Base64Lines(std::string_view bytes) {
  const std::string encoded = Base64(bytes);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 76 * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string Parameter(std::string_view name, std::string_view value) {
  const std::string n(name);
  const bool plain = PrintableAscii(value) && value.size() <= 60;
  if (plain) {
    std::string quoted;
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return ";\r\n " + n + "=\"" + quoted + "\"";
  }
  // RFC 2231: name*0*=UTF-8''<encoded>; name*1*=<encoded>; ... each on its own folded line, cut
  // between characters so that every piece decodes on its own.
  std::string out;
  int index = 0;
  // 16 bytes are at most 48 characters encoded: every line stays within 76.
  for (const auto piece : SplitUtf8(value, 16)) {
    out += ";\r\n " + n + "*" + std::to_string(index) + "*=" + (index == 0 ? "UTF-8''" : "") +
           Rfc2231Encode(piece);
    ++index;
  }
  return out;
}

std::string SafeFilename(std::string_view filename) {
  std::string out;
  for (char c : filename) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    out += (c == '/' || c == '\\') ? '_' : c;
  }
  while (!out.empty() && (out.front() == ' ' || out.front() == '.')) out.erase(0, 1);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.empty()) out = "attachment";
  return out;
}

std::string ContentTypeFor(std::string_view declared, std::string_view filename) {
  std::string type = Lower(declared.substr(0, declared.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  while (!type.empty() && type.front() == ' ') type.erase(0, 1);
  const size_t slash = type.find('/');
  if (slash != std::string::npos && IsToken(std::string_view(type).substr(0, slash)) &&
      IsToken(std::string_view(type).substr(slash + 1)) && type != "text/calendar") {
    return type;
  }
  static const std::array<std::pair<std::string_view, std::string_view>, 20> kByExtension = {{
      {"pdf", "application/pdf"},
      {"doc", "application/msword"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"ppt", "application/vnd.ms-powerpoint"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"xls", "application/vnd.ms-excel"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"odp", "application/vnd.oasis.opendocument.presentation"},
      {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"rtf", "application/rtf"},
      {"txt", "text/plain"},
      {"csv", "text/csv"},
      {"html", "text/html"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"zip", "application/zip"},
      {"epub", "application/epub+zip"},
      {"mp4", "video/mp4"},
  }};
  const size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos) {
    const std::string ext = Lower(filename.substr(dot + 1));
    for (const auto& [e, t] : kByExtension) {
      if (ext == e) return std::string(t);
    }
  }
  return "application/octet-stream";
}

}  // namespace ecd::notifications::mime
