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
endif()
