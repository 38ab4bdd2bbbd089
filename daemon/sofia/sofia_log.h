/*
 * sofia_log.h - Sofia-SIP's own messages through greenwichd's log.  Private to daemon/.
 */
#ifndef GW_SOFIA_LOG_H
#define GW_SOFIA_LOG_H

/* From now on Sofia's lines go to log_msg() as event=sofia; call after su_init(). */
void sofia_log_start(void);
/* Say how often the last line repeated, if it did (at shutdown). */
void sofia_log_flush(void);

#endif
