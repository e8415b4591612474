/* core/log.c - one line per message on stderr. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/log.h"

int vmm_log_threshold = VMM_LOG_INFO;

static const char *const level_names[] = {
	[VMM_LOG_ERROR] = "error", [VMM_LOG_WARN] = "warning", [VMM_LOG_INFO] = "info",
	[VMM_LOG_DEBUG] = "debug", [VMM_LOG_GUEST_ERROR] = "guest error",
};

void vmm_vlog(enum vmm_log_level level, const char *who, const char *fmt, va_list ap)
{
	/* Guest errors are shown with -v: a guest must not flood the host. */
	int rank = level == VMM_LOG_GUEST_ERROR ? VMM_LOG_DEBUG : (int)level;
	if (rank > vmm_log_threshold)
		return;
	char line[1024];
	int n = snprintf(line, sizeof(line), "vmmctl: %s%s%s: ", who ? who : "", who ? ": " : "",
			 (unsigned)level <= VMM_LOG_GUEST_ERROR ? level_names[level] : "log");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	/* One message, one line: a name or value from a config, a plugin or
	 * a guest that holds a newline or an escape sequence must not forge
	 * a line or drive the terminal.  Control characters are shown as
	 * \n or \xNN; other bytes (UTF-8 in a path) as they are. */
	char safe[4 * sizeof(line)];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch == '\n')
			o += (size_t)snprintf(safe + o, sizeof(safe) - o, "\\n");
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(safe + o, sizeof(safe) - o, "\\x%02x", ch);
		else
			safe[o++] = (char)ch;
	}
	safe[o] = '\0';
	/* In raw terminal mode a bare \n does not return the carriage. */
	fprintf(stderr, "%s\r\n", safe);
}

void vmm_log(enum vmm_log_level level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmm_vlog(level, who, fmt, ap);
	va_end(ap);
}

int vmm_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
