# Include roots scoped per target (docs/architecture.md, "Rooms").
#
# Code includes headers by their room: #include "device/chip.hpp". Instead of
# one include directory at the top of the source tree, which would let any
# target include any room, every library publishes its own headers under an
# include root of its own in the build tree:
#
#   build/<preset>/include/<target>/<dir>/<header>  →  link to <source>/<dir>/<header>
#
# and adds that root to its PUBLIC include directories. A target therefore
# sees the headers of itself and of the libraries it links, and no others:
# including a room it does not link fails to compile, so the build enforces
# which room may use which.

# kiln_publish_headers(<target> <dir> [HEADERS <name>...] [EXCLUDE <name>...])
#   Publishes the headers of <dir> (relative to the source tree): the ones
#   named, or every *.hpp / *.h in it but those excluded (another target of
#   the same folder publishes them); new ones are picked up at the next
#   build: the glob is CONFIGURE_DEPENDS. Call it once per directory.
function(kiln_publish_headers target dir)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "HEADERS;EXCLUDE")
  set(root ${PROJECT_BINARY_DIR}/include/${target})
  set(source ${PROJECT_SOURCE_DIR}/${dir})
  if(arg_HEADERS)
    set(headers ${arg_HEADERS})
  else()
    file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${source} ${source}/*.hpp ${source}/*.h)
    if(arg_EXCLUDE)
      list(REMOVE_ITEM headers ${arg_EXCLUDE})
    endif()
  endif()
  file(MAKE_DIRECTORY ${root}/${dir})
  # Links to headers that are gone are removed; generated files that share
  # the folder (schema/kiln.pb.h) are not links and stay.
  file(GLOB present LIST_DIRECTORIES false RELATIVE ${root}/${dir} ${root}/${dir}/*)
  foreach(name IN LISTS present)
    if(IS_SYMLINK ${root}/${dir}/${name} AND NOT name IN_LIST headers)
      file(REMOVE ${root}/${dir}/${name})
    endif()
  endforeach()
  foreach(header IN LISTS headers)
    if(NOT EXISTS ${source}/${header})
      message(FATAL_ERROR "kiln_publish_headers(${target}): ${dir}/${header} does not exist")
    endif()
    if(NOT IS_SYMLINK ${root}/${dir}/${header})
      file(CREATE_LINK ${source}/${header} ${root}/${dir}/${header} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
endfunction()
