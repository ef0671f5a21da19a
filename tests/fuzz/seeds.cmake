# Build the seed corpus of one harness: copies of files and the string
# literals of test sources, each named by the MD5 of its bytes (so the same
# input found twice is one seed), into OUT. Run at build time:
#   cmake -DOUT=<dir> -DSPEC=<file> -P seeds.cmake
# SPEC holds one rule a line:
#   file@@<glob>                every file the glob matches (up to 1 MiB)
#   literal@@<glob>@@<regex>    every C string literal of the matching
#                               sources whose text matches regex (or, for
#                               the word json, starts with { or [), with its
#                               escapes (\" \\ \n \r \t) decoded
# Missing directories (../shared on a clean clone) give no seeds, not an error.
if(NOT OUT OR NOT SPEC)
  message(FATAL_ERROR "seeds.cmake: set OUT and SPEC")
endif()
file(MAKE_DIRECTORY "${OUT}")
file(STRINGS "${SPEC}" _rules)
string(ASCII 1 _soh) # stands for a decoded backslash while the others are decoded

function(_seed_write text)
  string(MD5 _h "${text}")
  if(NOT EXISTS "${OUT}/${_h}")
    file(WRITE "${OUT}/${_h}" "${text}")
  endif()
endfunction()

foreach(rule IN LISTS _rules)
  string(REPLACE "@@" ";" _p "${rule}")
  list(GET _p 0 _kind)
  list(GET _p 1 _glob)
  file(GLOB_RECURSE _files "${_glob}")
  foreach(f IN LISTS _files)
    if(_kind STREQUAL "file")
      file(SIZE "${f}" _size)
      if(_size LESS_EQUAL 1048576)
        file(MD5 "${f}" _h)
        if(NOT EXISTS "${OUT}/${_h}")
          configure_file("${f}" "${OUT}/${_h}" COPYONLY)
        endif()
      endif()
    elseif(_kind STREQUAL "literal")
      list(GET _p 2 _want)
      file(STRINGS "${f}" _lines REGEX "\"")
      foreach(l IN LISTS _lines)
        string(REGEX MATCHALL "\"([^\"\\\\]|\\\\.)*\"" _lits "${l}")
        foreach(lit IN LISTS _lits)
          string(LENGTH "${lit}" _n)
          math(EXPR _n "${_n} - 2")
          string(SUBSTRING "${lit}" 1 ${_n} lit)
          string(SUBSTRING "${lit}" 0 1 _first)
          if(_want STREQUAL "json")
            # (a regex for this would hold an unbalanced '[', which a CMake list cannot)
            if(NOT _first STREQUAL "{" AND NOT _first STREQUAL "[")
              continue()
            endif()
          elseif(NOT lit MATCHES "${_want}")
            continue()
          endif()
          string(REPLACE "\\\\" "${_soh}" lit "${lit}")
          string(REPLACE "\\\"" "\"" lit "${lit}")
          string(REPLACE "\\n" "\n" lit "${lit}")
          string(REPLACE "\\r" "\r" lit "${lit}")
          string(REPLACE "\\t" "\t" lit "${lit}")
          string(REPLACE "${_soh}" "\\" lit "${lit}")
          _seed_write("${lit}")
        endforeach()
      endforeach()
    endif()
  endforeach()
endforeach()
