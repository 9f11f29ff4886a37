/* The helper program; all of it lives in src/helper.c. */
int helper_main(int argc, char **argv);

int main(int argc, char **argv) { return helper_main(argc, argv); }
