/*
 * bench/boot-timer.c - times a VMM process from its start to marker lines
 * on its standard output and to its exit, by the clock of the host it runs
 * on (bench/nested-boot.sh runs it inside the nested test host, L1).
 *
 *   boot-timer [-s] [-m MARKER]... -- PROGRAM [ARG]...
 *
 * PROGRAM's standard output (the guest's serial console) comes through a
 * pipe and is passed on line by line; its standard input and error are
 * boot-timer's own.  Then, on standard output:
 *   BOOT-FIRST <ms>            the first byte of output
 *   BOOT-MARK <ms> <MARKER>    the first line containing MARKER
 *   BOOT-EXIT <ms> status=<n>  PROGRAM's exit (128 + signal if killed)
 * all in milliseconds since just before the fork.  -s: each line is passed
 * on as "BOOT-LINE <ms> <line>" instead (a breakdown of a verbose boot by
 * the host's clock, beside the guest's own printk times).
 * Exit status: PROGRAM's; 125 when boot-timer itself fails.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKERS 8

static struct timespec t0;

static double since_start_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: boot-timer [-s] [-m MARKER]... -- PROGRAM [ARG]...\n");
	exit(125);
}

int main(int argc, char **argv)
{
	const char *marker[MAX_MARKERS];
	int seen[MAX_MARKERS] = { 0 };
	int nmarkers = 0, stamp = 0, opt;

	while ((opt = getopt(argc, argv, "sm:")) != -1) {
		switch (opt) {
		case 's':
			stamp = 1;
			break;
		case 'm':
			if (nmarkers == MAX_MARKERS) {
				fprintf(stderr, "boot-timer: at most %d markers\n", MAX_MARKERS);
				return 125;
			}
			marker[nmarkers++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	int fds[2];
	if (pipe(fds) != 0) {
		perror("boot-timer: pipe");
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("boot-timer: fork");
		return 125;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "boot-timer: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	/* a reader that went away must not kill the timer before the VMM ends */
	signal(SIGPIPE, SIG_IGN);

	FILE *in = fdopen(fds[0], "r");
	if (!in) {
		perror("boot-timer: fdopen");
		return 125;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int first = 1;
	while ((len = getline(&line, &cap, in)) > 0) {
		double ms = since_start_ms();
		if (first) {
			printf("BOOT-FIRST %.1f\n", ms);
			first = 0;
		}
		/* guest consoles end lines with \r\n */
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (stamp)
			printf("BOOT-LINE %.1f %s\n", ms, line);
		else
			printf("%s\n", line);
		for (int i = 0; i < nmarkers; i++) {
			if (!seen[i] && strstr(line, marker[i])) {
				seen[i] = 1;
				printf("BOOT-MARK %.1f %s\n", ms, marker[i]);
			}
		}
	}
	free(line);
	fclose(in);

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("boot-timer: waitpid");
			return 125;
		}
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("BOOT-EXIT %.1f status=%d\n", since_start_ms(), code);
	return code;
}
