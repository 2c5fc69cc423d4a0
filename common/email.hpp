#pragma once
// The platform's one rule for email addresses. An address is compared and stored in one form:
// trimmed, the domain lowercased and, when it is internationalised (IDN, like
// "justice.gouv.ci" written with accents), converted to its ASCII form (A-labels, "xn--…") per
// IDNA2008/UTS 46. The local part must be ASCII: SMTPUTF8 is not something every relay of the
// invited countries' ministries supports, so such an address is refused with a clear error
// rather than accepted and never delivered. The local part is lowercased too (the platform treats
// Awa.Diop@ and awa.diop@ as one person, as its users expect).
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ecd {

// The canonical form, or INVALID_ARGUMENT naming `field`.
StatusOr<std::string> CanonicalEmail(std::string_view email, std::string_view field);
// For comparing an address from elsewhere (a Zoom report, a stored copy) with stored ones: the
// canonical form when it has one, else trimmed and ASCII-lowercased (never an error).
std::string NormaliseEmail(std::string_view email);

namespace internal {
// CanonicalEmail with every domain through libidn2, even a plain ASCII one (which CanonicalEmail
// maps itself): for the tests that hold the two to the same answers.
StatusOr<std::string> CanonicalEmailThroughIdna(std::string_view email, std::string_view field);
}  // namespace internal

}  // namespace ecd
