/* Sanitizer options compiled into the sanitized helper and init. The server starts the helper
 * with an empty environment, and the lab's init gets only PATH, so ASAN_OPTIONS and UBSAN_OPTIONS
 * would never reach them: these defaults make every report fatal there too. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

/* LeakSanitizer stops the world with ptrace at exit, which a process that has entered a lab's user
 * namespace may not do to its parent; it would spin. Leaks are still checked in test-core. */
/* They exit rather than abort(): a lab's init blocks every signal, and the kernel drops signals a
 * namespace's init sends itself without a handler, so abort() would leave PID 1 spinning. */
const char *__asan_default_options(void) { return "detect_leaks=0:abort_on_error=0:halt_on_error=1:exitcode=86"; }
const char *__ubsan_default_options(void) { return "halt_on_error=1:abort_on_error=0:exitcode=86"; }
