#pragma once
// ISO 3166-1 alpha-2 country codes, ISO 639-1 language codes, and the UN regional groups whose
// member states the seed webinars invite.
#include <string>
#include <string_view>
#include <vector>

namespace ecd {

bool IsIsoCountry(std::string_view code);
bool IsLanguageCode(std::string_view code);
size_t IsoCountryCount();

enum class UnGroup { kAfrican, kAsiaPacific, kLatinAmericanCaribbean };
// Sorted ISO codes of the group's UN member states.
std::vector<std::string> UnGroupMembers(UnGroup group);

}  // namespace ecd
