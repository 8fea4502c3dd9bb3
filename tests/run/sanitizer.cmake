# sanitizer.cmake - the sanitizer runtime (.so) that tests must preload into
# programs they launch through the shim in a sanitizer build, since the
# sanitized shim cannot load into an uninstrumented program without it.
# Included by tests/run and tests/bench; it must never change build flags.
#
# mu_sanitizer_runtime(OUT): OUT is the runtime's absolute path, or "" in a
# build without sanitizers (or when the compiler does not know the file:
# then a warning, and the tests that need it fail saying so).
function(mu_sanitizer_runtime out)
  set(path "")
  if(MMAPURL_TSAN)
    set(kind tsan)
  elseif(MMAPURL_SANITIZE)
    set(kind asan)
  endif()
  if(kind)
    if(CMAKE_C_COMPILER_ID MATCHES "Clang")
      set(names libclang_rt.${kind}-${CMAKE_SYSTEM_PROCESSOR}.so libclang_rt.${kind}.so)
    else()
      set(names lib${kind}.so)
    endif()
    foreach(name ${names})
      execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=${name}
        OUTPUT_VARIABLE found OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(IS_ABSOLUTE "${found}" AND EXISTS "${found}")
        set(path ${found})
        break()
      endif()
    endforeach()
    if(NOT path)
      message(WARNING "no ${kind} runtime .so found for ${CMAKE_C_COMPILER}; "
                      "tests launching programs through the shim will fail")
    endif()
  endif()
  set(${out} "${path}" PARENT_SCOPE)
endfunction()
