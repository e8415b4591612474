/* core/log.h - the core's own log lines (stderr, "vmmctl: ..."). */
#ifndef VMM_CORE_LOG_H
#define VMM_CORE_LOG_H
#include <stdarg.h>
#include <stddef.h>
#include <vmm/host.h>

extern int vmm_log_threshold; /* messages above this level are dropped */

void vmm_log(enum vmm_log_level level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vmm_vlog(enum vmm_log_level level, const char *who, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* The one-line error convention (0 or a negative errno with the line in
 * err): the line into err, and rc back, for `return vmm_errf(...)`. */
int vmm_errf(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#endif
