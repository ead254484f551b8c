/* The C-style MQueue functions agents written in C already have (docs/protocol.md §4),
 * usable from C and C++.
 *
 *   start(path, type, attempts)  -> a queue handle (>= 0), or < 0 on failure
 *   send_binary(queue, msg, len, module, 's') -> 0 on success, < 0 on failure;
 *       the implementation frames the datagram as "s:<module>:<msg>".
 */
#ifndef ASP_TRANSPORT_MQ_FUNCTIONS_H_
#define ASP_TRANSPORT_MQ_FUNCTIONS_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `type` for start(): the queue is opened for writing. */
#define ASP_MQ_WRITE 1
/* The location byte ASP passes to send_binary(). */
#define ASP_MQ_SYNC_LOCATION 's'

typedef int (*mq_start_fn)(const char* path, short type, short attempts);
typedef int (*mq_send_binary_fn)(int queue, const void* message, size_t message_len,
                                 const char* module, char location);

typedef struct MQ_Functions {
  mq_start_fn start;
  mq_send_binary_fn send_binary;
} MQ_Functions;

#ifdef __cplusplus
}
#endif

#endif /* ASP_TRANSPORT_MQ_FUNCTIONS_H_ */
