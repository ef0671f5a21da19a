# The layering pacer's build enforces: data flows cmd -> backends -> reconcile,
# and inside reconcile/ the pipeline -> model/ -> base/. Every #include of
# every source under SOURCE_DIR is checked against the rules below; a
# violation stops the configure (and fails the test build_layering), naming
# the file, the line and the rule.
#
# Run as a script:  cmake -DSOURCE_DIR=<tree> -P contrib/cmake/layering.cmake
# or include() it after setting PACER_LAYERING_SOURCE_DIR.
#
# The Debian headers of curl, libgit2 and libmicrohttpd live on the default
# include path, so leaving their directories off reconcile's targets does not
# stop an include from compiling: this check is what does.

if(NOT SOURCE_DIR)
  set(SOURCE_DIR "${PACER_LAYERING_SOURCE_DIR}")
endif()
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "layering.cmake: set SOURCE_DIR to the source tree")
endif()

# Each rule: a folder (relative to SOURCE_DIR), a regular expression an
# include line of a file below it must not match, and why.
set(_rules
  "reconcile|<(curl|git2|microhttpd|openssl|zookeeper|systemd)[/.]|reconcile/ is pure logic over json-c: network, git, HTTP server and crypto libraries belong in backends/"
  "reconcile|<(sys/socket|netinet/[a-z]+|arpa/inet|netdb)[.]h>|reconcile/ opens no sockets: talk to Marathon through reconcile/marathon.h"
  "reconcile|\"(backends|cmd|tests)/|reconcile/ is the bottom layer: it includes only reconcile/ headers"
  "reconcile/model|\"reconcile/[a-z_]+[.]h\"|model/ sits below the pipeline: include only reconcile/base/ and reconcile/model/"
  "reconcile/base|\"reconcile/(model/|[a-z_]+[.]h\")|base/ is the bottom of reconcile/: include only reconcile/base/"
  "backends|\"(cmd|tests)/|backends/ sit below cmd/: a backend never includes a program's headers"
  "cmd|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/: use its stores, election and queue"
  "tests|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/: tests use pacer's API or a server process"
  "backends/marathon|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/"
  "backends/fs|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/"
  "backends/git|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/"
  "backends/backup|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/"
  "backends/webhook|<zookeeper[/.]|ZooKeeper's client is used only in backends/zk/"
  "cmd/marathon-sim|\"(backends|cmd/pacer)/|marathon-sim is Marathon, not pacer: it links only reconcile/base and reconcile/model"
)

set(_violations "")
foreach(rule IN LISTS _rules)
  string(REPLACE "|" ";" _parts "${rule}")
  # The pattern itself may contain '|': folder is the first field, the
  # reason the last, the pattern everything between.
  list(GET _parts 0 _dir)
  list(LENGTH _parts _n)
  math(EXPR _last "${_n} - 1")
  list(GET _parts ${_last} _why)
  list(SUBLIST _parts 1 ${_n} _mid)
  list(REMOVE_AT _mid -1)
  list(JOIN _mid "|" _pattern)
  file(GLOB_RECURSE _files "${SOURCE_DIR}/${_dir}/*.c" "${SOURCE_DIR}/${_dir}/*.h")
  foreach(f IN LISTS _files)
    file(STRINGS "${f}" _lines REGEX "^[ \t]*#[ \t]*include")
    foreach(l IN LISTS _lines)
      if(l MATCHES "${_pattern}")
        file(RELATIVE_PATH _rel "${SOURCE_DIR}" "${f}")
        string(STRIP "${l}" l)
        string(APPEND _violations "  ${_rel}: ${l}\n    (${_why})\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(_violations)
  message(FATAL_ERROR "pacer's layering is broken:\n${_violations}"
          "Move the code to the layer that may use it, or pass what it needs "
          "down through an interface (see README, Source layout).")
endif()
