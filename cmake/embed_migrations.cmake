# ecd_embed_migrations(<target> <namespace> <dir>): compiles the numbered SQL files of <dir> into
# <target> as `std::vector<ecd::Migration> <namespace>::Migrations()`, so that a binary carries its
# own schema and needs no path at run time (containers, tests, scripts).
function(ecd_embed_migrations target ns dir)
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/*.sql")
  list(SORT sql_files)
  # An edited migration must be embedded again.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${sql_files})
  set(body "")
  foreach(f IN LISTS sql_files)
    get_filename_component(fname "${f}" NAME)
    if(NOT fname MATCHES "^([0-9]+)_.*\\.sql$")
      message(FATAL_ERROR "migration ${fname}: name must start with its number, like 001_init.sql")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    file(READ "${f}" sql)
    string(APPEND body "      {${version}, \"${fname}\", R\"ecdsql(${sql})ecdsql\"},\n")
  endforeach()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.cpp")
  # Written as is (no @var@ substitution in the SQL), and only when it changed.
  set(content
"// Generated from ${dir} by cmake/embed_migrations.cmake; do not edit.
#include \"common/migrations.hpp\"

namespace ${ns} {
const std::vector<ecd::Migration>& Migrations() {
  static const std::vector<ecd::Migration> kMigrations = {
${body}  };
  return kMigrations;
}
}  // namespace ${ns}
")
  file(WRITE "${out}.new" "${content}")
  configure_file("${out}.new" "${out}" COPYONLY)
  target_sources(${target} PRIVATE "${out}")
endfunction()
