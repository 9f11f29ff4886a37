/* The helper program; all of it lives in src/helper.c. */
int helper_main(int argc, char **argv);

#ifdef NSLAB_SANITIZED_HELPER
/* LeakSanitizer stops the world with ptrace at exit, which a process that has entered a lab's
 * user namespace may not do to itself; it would spin. Leaks are still checked in test-core. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif

int main(int argc, char **argv) { return helper_main(argc, argv); }
