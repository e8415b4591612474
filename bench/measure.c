/* bench/measure.c - run commands repeatedly, interleaved, and report the
 * median wall time and median peak RSS (wait4()'s ru_maxrss) of each.
 *
 * Usage: measure [-n RUNS] [-q] CMD [ARGS...] [:: CMD [ARGS...]]...
 *   -n RUNS  runs per command (default 10); the commands alternate:
 *            A B A B ... so that drift on the host hits all of them alike
 *   -q       children's stdout and stderr go to /dev/null (stdin always does)
 * Output: one line per command, in order:
 *   cmd=I runs=R wall_ms=MEDIAN wall_min_ms=MIN rss_kib=MEDIAN status=S
 * where S is the exit status of every run (128+N for signal N).  If a
 * command's runs end with different statuses, S is "mixed" and measure
 * exits 1; it also exits 1 when a command cannot be started. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	char **argv;
	double *wall_ms;
	long *rss_kib;
	int status;
	int mixed;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

static double median_double(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long median_long(long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run; returns the exit status (128+N for signal N) or -1. */
static int run_once(char **argv, int quiet, double *wall_ms, long *rss_kib)
{
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			if (quiet) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		execvp(argv[0], argv);
		fprintf(stderr, "measure: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int ws;
	struct rusage ru;
	while (wait4(pid, &ws, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return -1;
		}
	}
	*wall_ms = now_ms() - t0;
	*rss_kib = ru.ru_maxrss;
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	return 128 + WTERMSIG(ws);
}

int main(int argc, char **argv)
{
	int runs = 10, quiet = 0, o;

	while ((o = getopt(argc, argv, "+n:q")) != -1) {
		switch (o) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			fprintf(stderr, "usage: measure [-n RUNS] [-q] CMD [ARGS...] [:: CMD [ARGS...]]...\n");
			return 2;
		}
	}
	if (runs < 1 || optind >= argc) {
		fprintf(stderr, "usage: measure [-n RUNS] [-q] CMD [ARGS...] [:: CMD [ARGS...]]...\n");
		return 2;
	}

	int ncmds = 0;
	struct cmd *cmds = calloc((size_t)argc, sizeof(*cmds));
	if (!cmds)
		return 2;
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "::") == 0) {
			argv[i] = NULL;
			continue;
		}
		if (i == optind || argv[i - 1] == NULL) {
			cmds[ncmds].argv = &argv[i];
			cmds[ncmds].wall_ms = calloc((size_t)runs, sizeof(double));
			cmds[ncmds].rss_kib = calloc((size_t)runs, sizeof(long));
			if (!cmds[ncmds].wall_ms || !cmds[ncmds].rss_kib)
				return 2;
			ncmds++;
		}
	}

	int rc = 0;
	for (int r = 0; r < runs; r++) {
		for (int c = 0; c < ncmds; c++) {
			int st = run_once(cmds[c].argv, quiet, &cmds[c].wall_ms[r], &cmds[c].rss_kib[r]);
			if (st < 0 || st == 127)
				return 1;
			if (r == 0)
				cmds[c].status = st;
			else if (st != cmds[c].status)
				cmds[c].mixed = 1;
		}
	}
	for (int c = 0; c < ncmds; c++) {
		double lo = cmds[c].wall_ms[0];
		for (int r = 1; r < runs; r++)
			lo = cmds[c].wall_ms[r] < lo ? cmds[c].wall_ms[r] : lo;
		printf("cmd=%d runs=%d wall_ms=%.3f wall_min_ms=%.3f rss_kib=%ld status=", c + 1, runs,
		       median_double(cmds[c].wall_ms, runs), lo, median_long(cmds[c].rss_kib, runs));
		if (cmds[c].mixed) {
			printf("mixed\n");
			rc = 1;
		} else {
			printf("%d\n", cmds[c].status);
		}
	}
	return rc;
}
