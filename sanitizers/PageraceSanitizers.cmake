# Applies PAGERACE_SANITIZERS, PAGERACE_FUZZ_ENGINE and PAGERACE_COVERAGE to
# every target in the build. Sanitizer runtime options live beside this file
# (*.options). Sets, for the rest of the build:
#   PAGERACE_SANCOV           clang's SanitizerCoverage instruments the code
#                             (libFuzzer, or an external engine whose CXXFLAGS
#                             carry -fsanitize=fuzzer-no-link): modules may
#                             tune it (harness/CMakeLists.txt)
#   PAGERACE_ENGINE_LINK      how a fuzz target links its engine
#   PAGERACE_FUZZER_NO_MAIN   what other executables link so that the
#                             coverage callbacks resolve (empty: nothing)
if(PAGERACE_SANITIZERS)
  set(_san_flags "-fsanitize=${PAGERACE_SANITIZERS}" -fno-omit-frame-pointer -g)
  if(PAGERACE_SANITIZERS MATCHES "undefined")
    list(APPEND _san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san_flags})
  add_link_options(${_san_flags})
endif()

if(PAGERACE_COVERAGE)
  # Source-based coverage (llvm-cov): ci/coverage.sh runs the corpus through
  # the engine-less targets and renders the report.
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PAGERACE_COVERAGE needs clang (CMAKE_CXX_COMPILER=clang++-14)")
  endif()
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate)
endif()

set(PAGERACE_SANCOV OFF)
set(PAGERACE_ENGINE_LINK "")
set(PAGERACE_FUZZER_NO_MAIN "")
# The libFuzzer runtime without its main, for executables other than the
# targets (the CLI, the tests) in a build whose objects call the coverage
# callbacks: it defines them (sanitizer runtimes do too, but a build without
# sanitizers has none).
macro(_pagerace_fuzzer_no_main)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} --print-file-name=libclang_rt.fuzzer_no_main-x86_64.a
                  OUTPUT_VARIABLE PAGERACE_FUZZER_NO_MAIN OUTPUT_STRIP_TRAILING_WHITESPACE)
endmacro()

if(PAGERACE_FUZZ_ENGINE STREQUAL "libfuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PAGERACE_FUZZ_ENGINE=libfuzzer needs clang (CMAKE_CXX_COMPILER=clang++-14)")
  endif()
  # Every object gets coverage instrumentation; only the targets link the
  # engine's main (see targets/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
  set(PAGERACE_SANCOV ON)
  set(PAGERACE_ENGINE_LINK -fsanitize=fuzzer)
  _pagerace_fuzzer_no_main()
elseif(PAGERACE_FUZZ_ENGINE STREQUAL "afl")
  # afl-clang-fast++ instruments every object itself; -fsanitize=fuzzer makes
  # it link libAFLDriver.a, which runs LLVMFuzzerTestOneInput in persistent
  # mode (and replays files given on the command line).
  get_filename_component(_cxx ${CMAKE_CXX_COMPILER} NAME)
  if(NOT _cxx MATCHES "^afl-clang-(fast|lto)\\+\\+")
    message(FATAL_ERROR "PAGERACE_FUZZ_ENGINE=afl needs CMAKE_CXX_COMPILER=afl-clang-fast++ (Debian's afl++)")
  endif()
  set(PAGERACE_ENGINE_LINK -fsanitize=fuzzer)
elseif(PAGERACE_FUZZ_ENGINE STREQUAL "external")
  # OSS-Fuzz and ClusterFuzzLite (ci/oss-fuzz/build.sh): CC, CXX, CFLAGS and
  # CXXFLAGS come from the builder; the targets link $LIB_FUZZING_ENGINE.
  if(NOT PAGERACE_LIB_FUZZING_ENGINE)
    message(FATAL_ERROR "PAGERACE_FUZZ_ENGINE=external needs PAGERACE_LIB_FUZZING_ENGINE (\$LIB_FUZZING_ENGINE)")
  endif()
  separate_arguments(PAGERACE_ENGINE_LINK UNIX_COMMAND "${PAGERACE_LIB_FUZZING_ENGINE}")
  if(CMAKE_CXX_FLAGS MATCHES "-fsanitize=fuzzer-no-link")
    set(PAGERACE_SANCOV ON)
    _pagerace_fuzzer_no_main()
  endif()
elseif(NOT PAGERACE_FUZZ_ENGINE STREQUAL "none")
  message(FATAL_ERROR "PAGERACE_FUZZ_ENGINE must be none, libfuzzer, afl or external")
endif()
