/*
 * shortest.h — internal: the shortest decimal that reads back to a double.
 */
#ifndef SVK_LOG_SHORTEST_H
#define SVK_LOG_SHORTEST_H

/*
 * The fewest significant digits (1..17, no trailing zeros) that read back
 * to v (finite, > 0) as strtod rounds, the closest to v when several do:
 * digits into d, the count returned, and *exp10 such that
 * v ~= d[0].d[1]d[2]... x 10^exp10.
 */
int svk__shortest_digits(double v, char d[20], int *exp10);

#endif
