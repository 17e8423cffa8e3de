/*
 * number.h — internal: numbers as the handlers print them. Each writer puts
 * its text at p (the caller has made room) and returns the end; no NUL.
 */
#ifndef SVK_LOG_NUMBER_H
#define SVK_LOG_NUMBER_H

#include <stdint.h>

/* Room any one of these writers may need. */
#define SVK__NUMBER_MAX 40

char *svk__put_u64(char *p, uint64_t v);
char *svk__put_i64(char *p, int64_t v);

/*
 * A finite double as Go's encoding/json prints it: the shortest decimal that
 * reads back to v, plain notation for 1e-6 <= |v| < 1e21, otherwise
 * exponent notation ("1e+21", "1.5e-7"). Not for NaN or infinities.
 */
char *svk__put_f64(char *p, double v);

/* A duration as Go's time.Duration.String prints it: "1h2m3.5s", "250ms". */
char *svk__put_go_duration(char *p, int64_t ns);

#endif
