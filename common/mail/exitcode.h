/*
 * exitcode - exit codes are the API between programs (STYLE.md 6)
 */
#ifndef POSTERN_EXITCODE_H
#define POSTERN_EXITCODE_H

#define EXIT_DONE      0	/* done */
#define EXIT_PERM    100	/* permanent failure: do not retry */
#define EXIT_TEMP    111	/* temporary failure: retry later */
#define EXIT_USAGE    64	/* bad command line (sysexits EX_USAGE) */
#define EXIT_NOTRUNNING 3	/* postern status: instance not running */

#endif
