cmake_minimum_required(VERSION 3.18)
# Render a man page: run PROGRAM with ARGS (a ;-list) and put what it prints
# in place of the line @GENERATED@ of TEMPLATE, with @VERSION@ and @DATE@
# replaced, into OUTPUT.
#   MODE=raw    the output is troff already (pacer completion man)
#   MODE=help   the output is --help text: each "  --flag ARG   text" line
#               (and the deeper-indented lines that continue it) becomes a
#               .TP entry; other lines are left out
# DATE honours SOURCE_DATE_EPOCH, so package builds are reproducible.
execute_process(COMMAND ${PROGRAM} ${ARGS}
                OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${rc}): ${err}")
endif()

# troff text: backslashes, minus signs, no control character at the start.
function(troff_escape var text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  if(text MATCHES "^[.']")
    set(text "\\&${text}")
  endif()
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

if(MODE STREQUAL "help")
  # One list element per line; a ';' in the text must not split it.
  string(REPLACE ";" "@SEMICOLON@" out "${out}")
  string(REGEX REPLACE "\n$" "" out "${out}")
  string(REPLACE "\n" ";" lines "${out}")
  set(troff "")
  set(in_option FALSE)
  foreach(line IN LISTS lines)
    string(REPLACE "@SEMICOLON@" ";" line "${line}")
    if(line MATCHES "^  (--[a-z-]+)( [^ ]+)?  +(.*)$")
      # troff_escape() matches a regex too: take the groups first.
      set(flag "${CMAKE_MATCH_1}")
      string(STRIP "${CMAKE_MATCH_2}" arg)
      set(text "${CMAKE_MATCH_3}")
      troff_escape(flag "${flag}")
      troff_escape(text "${text}")
      if(NOT arg STREQUAL "")  # not if(arg): "N" is false to CMake
        troff_escape(arg "${arg}")
        string(APPEND troff ".TP\n\\fB${flag}\\fR \\fI${arg}\\fR\n${text}\n")
      else()
        string(APPEND troff ".TP\n\\fB${flag}\\fR\n${text}\n")
      endif()
      set(in_option TRUE)
    elseif(in_option AND line MATCHES "^      +(.*)$")
      troff_escape(text "${CMAKE_MATCH_1}")
      string(APPEND troff "${text}\n")
    else()
      set(in_option FALSE)
    endif()
  endforeach()
  set(out "${troff}")
endif()

string(TIMESTAMP DATE "%Y-%m-%d" UTC)
file(READ "${TEMPLATE}" page)
string(REPLACE "@VERSION@" "${VERSION}" page "${page}")
string(REPLACE "@DATE@" "${DATE}" page "${page}")
string(REPLACE "@GENERATED@\n" "${out}" page "${page}")
file(WRITE "${OUTPUT}.tmp" "${page}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
