/*
 * level.h — internal: a level as the handlers print it.
 */
#ifndef SVK_LOG_LEVEL_H
#define SVK_LOG_LEVEL_H

/* Longest level text: "DEBUG-2147483644". */
#define SVK__LEVEL_MAX 20

/* Write level ("INFO", "WARN+1", ...) at p, no NUL; return the end. */
char *svk__put_level(char *p, int level);

#endif
