/* check.c - counters and the verdict line of the host tests. */
#include "check.h"

int check_count, check_failures;

int check_report(const char *name)
{
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures != 0;
}
