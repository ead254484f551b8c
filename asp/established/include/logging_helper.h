/* The log levels of the established interface (modules_log_level_t), which its
 * asp_logger_t and LoggerFunc receive. ASP logs at LOG_DEBUG, LOG_INFO, LOG_WARNING and
 * LOG_ERROR only.
 *
 * An agent that has its own logging_helper.h (the same guard, the same enum) may put it
 * first on the include path; this one then adds nothing. Usable from C and C++. */
#ifndef _LOGGINGHELPER_H
#define _LOGGINGHELPER_H

typedef enum modules_log_level_t {
  LOG_DEBUG,
  LOG_INFO,
  LOG_WARNING,
  LOG_ERROR,
  LOG_ERROR_EXIT,
  LOG_DEBUG_VERBOSE
} modules_log_level_t;

#endif /* _LOGGINGHELPER_H */
