# ecd_embed_templates(<target> <dir>): compiles the message templates of <dir>
# (<language>/<kind>.subject and <language>/<kind>.txt) into <target> as
# `const std::map<std::string, std::string>& ecd::notifications::EmbeddedTemplates()`, keyed by the
# path under <dir> ("fr/confirmed.subject"), so that a binary carries its own templates.
function(ecd_embed_templates target dir)
  file(GLOB template_files CONFIGURE_DEPENDS "${dir}/*/*.subject" "${dir}/*/*.txt")
  list(SORT template_files)
  # The glob notices added and removed files; this notices edits of existing ones.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${template_files})
  set(delimiter "ecdtpl")
  set(body "")
  foreach(f IN LISTS template_files)
    file(RELATIVE_PATH key "${dir}" "${f}")
    file(READ "${f}" text)
    string(FIND "${text}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "template ${key} contains )${delimiter}\", which ends a raw string")
    endif()
    string(APPEND body "      {\"${key}\", R\"${delimiter}(${text})${delimiter}\"},\n")
  endforeach()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_templates.cpp")
  # Written with file(WRITE), not file(CONFIGURE), so that an "@name@" in a template stays as it is;
  # copied only when different, so that an unchanged set of templates rebuilds nothing.
  file(WRITE "${out}.tmp"
"// Generated from ${dir} by cmake/embed_templates.cmake; do not edit.
#include <map>
#include <string>

namespace ecd::notifications {
const std::map<std::string, std::string>& EmbeddedTemplates() {
  static const std::map<std::string, std::string> kTemplates = {
${body}  };
  return kTemplates;
}
}  // namespace ecd::notifications
")
  file(COPY_FILE "${out}.tmp" "${out}" ONLY_IF_DIFFERENT)
  file(REMOVE "${out}.tmp")
  target_sources(${target} PRIVATE "${out}")
endfunction()
