/* core/log.h - the core's own log lines (stderr, "vmmctl: ..."). */
#ifndef VMM_CORE_LOG_H
#define VMM_CORE_LOG_H
#include <stdarg.h>
#include <vmm/host.h>

extern int vmm_log_threshold; /* messages above this level are dropped */

void vmm_log(enum vmm_log_level level, const char *who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vmm_vlog(enum vmm_log_level level, const char *who, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
#endif
