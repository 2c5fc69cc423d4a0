#include "common/email.hpp"

#include <idn2.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/text.hpp"

namespace ecd {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 5322 atext and '.', as far as addresses people type go (no quoted local parts).
bool IsLocalChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
}

bool IsDomainLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// A domain of ASCII letters, digits, hyphens and dots with no A-label ("xn--"), as nearly every
// address is: UTS 46 maps it by lowercasing alone, so libidn2 (5% of a Register call's CPU) is
// not needed. The unit tests hold the two paths to the same answers.
bool IsPlainAsciiDomain(std::string_view domain) {
  for (size_t i = 0; i < domain.size(); ++i) {
    const char c = domain[i];
    const bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.';
    if (!ldh) return false;
    // A label whose third and fourth characters are hyphens ("xn--" or any other "??--").
    const bool label_start = i == 0 || domain[i - 1] == '.';
    if (label_start && i + 3 < domain.size() && domain[i + 2] == '-' && domain[i + 3] == '-') {
      return false;
    }
  }
  return true;
}

StatusOr<std::string> Canonical(std::string_view email, std::string_view field,
                                bool plain_ascii_fast_path) {
  const std::string name(field);
  while (!email.empty() && IsSpace(email.front())) email.remove_prefix(1);
  while (!email.empty() && IsSpace(email.back())) email.remove_suffix(1);
  if (email.empty()) return Status::InvalidArgument(name, "is required");
  if (email.size() > 254) return Status::InvalidArgument(name, "must be at most 254 bytes");
  if (!IsValidUtf8(email)) return Status::InvalidArgument(name, "must be valid UTF-8");
  const size_t at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size()) {
    return Status::InvalidArgument(name, "is not an email address (name@domain)");
  }
  const std::string_view local = email.substr(0, at), domain = email.substr(at + 1);
  if (local.size() > 64) return Status::InvalidArgument(name, "local part over 64 characters");
  for (char c : local) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return Status::InvalidArgument(
          name,
          "the part before @ must be ASCII (internationalised local parts are not "
          "delivered by every mail relay); the domain may be internationalised");
    }
    if (!IsLocalChar(c)) {
      return Status::InvalidArgument(name,
                                     "the part before @ has a character addresses cannot have");
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Status::InvalidArgument(name, "the part before @ has misplaced dots");
  }
  // The domain in its ASCII form (IDNA2008 with UTS 46 mapping: case folding, NFC).
  std::string canonical_domain;
  if (plain_ascii_fast_path && IsPlainAsciiDomain(domain)) {
    canonical_domain = Lower(domain);
  } else {
    const std::string domain_in(domain);
    char* ascii = nullptr;
    const int rc =
        idn2_to_ascii_8z(domain_in.c_str(), &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    std::unique_ptr<char, decltype(&idn2_free)> owned(ascii, &idn2_free);
    if (rc != IDN2_OK || ascii == nullptr) {
      return Status::InvalidArgument(name, "the domain is not a valid domain name");
    }
    canonical_domain = Lower(ascii);
  }
  size_t start = 0;
  while (start <= canonical_domain.size()) {
    const size_t dot = std::min(canonical_domain.find('.', start), canonical_domain.size());
    const std::string_view label(canonical_domain.data() + start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), IsDomainLabelChar)) {
      return Status::InvalidArgument(name, "the domain is not a valid domain name");
    }
    start = dot + 1;
  }
  if (canonical_domain.find('.') == std::string::npos || canonical_domain.size() > 253) {
    return Status::InvalidArgument(name, "the domain must have a dot, like justice.sn");
  }
  return Lower(local) + "@" + canonical_domain;
}

}  // namespace

StatusOr<std::string> CanonicalEmail(std::string_view email, std::string_view field) {
  return Canonical(email, field, /*plain_ascii_fast_path=*/true);
}

namespace internal {
StatusOr<std::string> CanonicalEmailThroughIdna(std::string_view email, std::string_view field) {
  return Canonical(email, field, /*plain_ascii_fast_path=*/false);
}
}  // namespace internal

std::string NormaliseEmail(std::string_view email) {
  auto canonical = CanonicalEmail(email, "email");
  if (canonical.ok()) return *canonical;
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!email.empty() && space(email.front())) email.remove_prefix(1);
  while (!email.empty() && space(email.back())) email.remove_suffix(1);
  std::string out(email);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace ecd
