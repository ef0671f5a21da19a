cmake_minimum_required(VERSION 3.18)
# Run PROGRAM with ARGS (a ;-list) and write what it prints to OUTPUT
# (written whole, then renamed); fail the build when it fails.
execute_process(COMMAND ${PROGRAM} ${ARGS}
                OUTPUT_FILE "${OUTPUT}.tmp" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${rc}): ${err}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
