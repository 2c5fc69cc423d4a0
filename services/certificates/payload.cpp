#include "services/certificates/payload.hpp"

#include <climits>
#include <cstdint>
#include <string_view>
#include <utility>

#include "common/crypto.hpp"

namespace ecd::certificates {

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if there is none.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;  // overlong
    unsigned char hi = b == 0xED ? 0x9F : 0xBF;  // surrogates
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned char lo = b == 0xF0 ? 0x90 : 0x80;  // overlong
    unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

void AppendString(const std::string& s, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      ++i;
    } else if (size_t n = Utf8SequenceLength(s, i); n > 0) {
      out->append(s, i, n);
      i += n;
    } else {
      // Not UTF-8: the payload stays valid UTF-8 JSON, with U+FFFD for each stray byte.
      out->append("\xEF\xBF\xBD");
      ++i;
    }
  }
  out->push_back('"');
}

enum class Kind { kString, kInt };
struct Field {
  const char* name;
  Kind kind;
  std::string CertifiedFacts::*str;
  int CertifiedFacts::*num;
};

// The payload's keys, in their order. Version 1 (before name commitments) and version 2, which
// starts with "v":2 and holds the name's commitment instead of the name.
const Field kFieldsV1[] = {
    {"serial", Kind::kString, &CertifiedFacts::serial, nullptr},
    {"verification_code", Kind::kString, &CertifiedFacts::verification_code, nullptr},
    {"participant_name", Kind::kString, &CertifiedFacts::participant_name, nullptr},
    {"event_title", Kind::kString, &CertifiedFacts::event_title, nullptr},
    {"series_title", Kind::kString, &CertifiedFacts::series_title, nullptr},
    {"event_start", Kind::kString, &CertifiedFacts::event_start, nullptr},
    {"event_end", Kind::kString, &CertifiedFacts::event_end, nullptr},
    {"duration_minutes", Kind::kInt, nullptr, &CertifiedFacts::duration_minutes},
    {"language", Kind::kString, &CertifiedFacts::language, nullptr},
    {"issuer", Kind::kString, &CertifiedFacts::issuer, nullptr},
    {"issue_date", Kind::kString, &CertifiedFacts::issue_date, nullptr},
    {"key_id", Kind::kString, &CertifiedFacts::key_id, nullptr},
};
const Field kFieldsV2[] = {
    {"v", Kind::kInt, nullptr, &CertifiedFacts::version},
    {"serial", Kind::kString, &CertifiedFacts::serial, nullptr},
    {"verification_code", Kind::kString, &CertifiedFacts::verification_code, nullptr},
    {"name_commitment", Kind::kString, &CertifiedFacts::name_commitment, nullptr},
    {"event_title", Kind::kString, &CertifiedFacts::event_title, nullptr},
    {"series_title", Kind::kString, &CertifiedFacts::series_title, nullptr},
    {"event_start", Kind::kString, &CertifiedFacts::event_start, nullptr},
    {"event_end", Kind::kString, &CertifiedFacts::event_end, nullptr},
    {"duration_minutes", Kind::kInt, nullptr, &CertifiedFacts::duration_minutes},
    {"language", Kind::kString, &CertifiedFacts::language, nullptr},
    {"issuer", Kind::kString, &CertifiedFacts::issuer, nullptr},
    {"issue_date", Kind::kString, &CertifiedFacts::issue_date, nullptr},
    {"key_id", Kind::kString, &CertifiedFacts::key_id, nullptr},
};

template <size_t N>
std::string Encode(const CertifiedFacts& facts, const Field (&fields)[N]) {
  std::string out = "{";
  bool first = true;
  for (const Field& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(f.name);
    out.append("\":");
    if (f.kind == Kind::kString) {
      AppendString(facts.*f.str, &out);
    } else {
      out.append(std::to_string(facts.*f.num));
    }
  }
  out.push_back('}');
  return out;
}

// A cursor over a payload that accepts only what CanonicalPayload writes.
class StrictReader {
 public:
  explicit StrictReader(const std::string& s) : s_(s) {}

  bool Literal(std::string_view lit) {
    if (s_.compare(pos_, lit.size(), lit) != 0) return false;
    pos_ += lit.size();
    return true;
  }
  bool AtEnd() const { return pos_ == s_.size(); }
  size_t pos() const { return pos_; }

  bool String(std::string* out) {
    if (!Literal("\"")) return false;
    out->clear();
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return false;
        char e = s_[pos_ + 1];
        if (e == '"' || e == '\\') {
          out->push_back(e);
          pos_ += 2;
          continue;
        }
        // Only control characters are written as \u00xx (lowercase hex, below 0x20).
        if (e != 'u' || pos_ + 6 > s_.size() || s_.compare(pos_ + 2, 2, "00") != 0) return false;
        int hi = LowerHex(s_[pos_ + 4]);
        int lo = LowerHex(s_[pos_ + 5]);
        if (hi < 0 || hi > 1 || lo < 0) return false;
        out->push_back(static_cast<char>(hi * 16 + lo));
        pos_ += 6;
        continue;
      }
      if (c < 0x20) return false;
      size_t n = Utf8SequenceLength(s_, pos_);
      if (n == 0) return false;
      out->append(s_, pos_, n);
      pos_ += n;
    }
    return false;  // unterminated
  }

  // An int as std::to_string writes it: no '+', no leading zeros, no "-0", in range.
  bool Int(int* out) {
    size_t start = pos_;
    bool negative = pos_ < s_.size() && s_[pos_] == '-';
    if (negative) ++pos_;
    size_t digits = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    size_t n = pos_ - digits;
    if (n == 0 || n > 10 || (n > 1 && s_[digits] == '0') || (negative && s_[digits] == '0')) {
      pos_ = start;
      return false;
    }
    int64_t v = 0;
    for (size_t i = digits; i < pos_; ++i) v = v * 10 + (s_[i] - '0');
    if (negative) v = -v;
    if (v < INT_MIN || v > INT_MAX) {
      pos_ = start;
      return false;
    }
    *out = static_cast<int>(v);
    return true;
  }

 private:
  static int LowerHex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

std::string CanonicalPayload(const CertifiedFacts& facts) {
  return facts.version == 1 ? Encode(facts, kFieldsV1) : Encode(facts, kFieldsV2);
}

std::string NameCommitment(const std::string& salt, const std::string& nfc_name) {
  return Base64UrlEncode(Sha256Raw(salt + nfc_name));
}

StatusOr<CertifiedFacts> ParsePayload(const std::string& payload) {
  auto bad = [&](const std::string& what, size_t pos) {
    return Status::InvalidArgument("payload", "not a canonical certificate payload (" + what +
                                                  " at byte " + std::to_string(pos) + ")");
  };
  auto parse = [&](const auto& fields, CertifiedFacts& facts) -> Status {
    StrictReader r(payload);
    if (!r.Literal("{")) return bad("expected '{'", r.pos());
    bool first = true;
    for (const Field& f : fields) {
      if (!first && !r.Literal(",")) return bad("expected ','", r.pos());
      first = false;
      std::string key = std::string("\"") + f.name + "\":";
      if (!r.Literal(key)) return bad("expected the key \"" + std::string(f.name) + "\"", r.pos());
      bool ok = f.kind == Kind::kString ? r.String(&(facts.*f.str)) : r.Int(&(facts.*f.num));
      if (!ok) return bad(std::string("bad value for \"") + f.name + "\"", r.pos());
    }
    if (!r.Literal("}")) return bad("expected '}'", r.pos());
    if (!r.AtEnd()) return bad("trailing bytes", r.pos());
    return Status::Ok();
  };
  CertifiedFacts facts;
  if (payload.starts_with("{\"v\":")) {
    ECD_RETURN_IF_ERROR(parse(kFieldsV2, facts));
    if (facts.version != 2) return bad("unknown version " + std::to_string(facts.version), 5);
  } else {
    facts.version = 1;
    ECD_RETURN_IF_ERROR(parse(kFieldsV1, facts));
  }
  return facts;
}

}  // namespace ecd::certificates
