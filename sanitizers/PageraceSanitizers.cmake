# Applies PAGERACE_SANITIZERS and PAGERACE_FUZZ_ENGINE to every target in the
# build. Sanitizer runtime options live beside this file (*.options).
if(PAGERACE_SANITIZERS)
  set(_san_flags "-fsanitize=${PAGERACE_SANITIZERS}" -fno-omit-frame-pointer -g)
  if(PAGERACE_SANITIZERS MATCHES "undefined")
    list(APPEND _san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san_flags})
  add_link_options(${_san_flags})
endif()

if(PAGERACE_FUZZ_ENGINE STREQUAL "libfuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PAGERACE_FUZZ_ENGINE=libfuzzer needs clang (CMAKE_CXX_COMPILER=clang++-14)")
  endif()
  # Every object gets coverage instrumentation; only the targets link the
  # engine's main (see targets/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
  # Executables other than the targets (the CLI) link libFuzzer's runtime
  # without its main: it defines the coverage callbacks the instrumented
  # harness calls (sanitizer runtimes define them too, but a build without
  # sanitizers has none).
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} --print-file-name=libclang_rt.fuzzer_no_main-x86_64.a
                  OUTPUT_VARIABLE PAGERACE_FUZZER_NO_MAIN OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
