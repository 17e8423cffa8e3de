/*
 * svckit/svckit.h — umbrella header: includes every libsvckit module header.
 *
 * Each module header also compiles on its own; include just the ones you use
 * to keep build dependencies small.
 */
#ifndef SVCKIT_SVCKIT_H
#define SVCKIT_SVCKIT_H

#include "svckit/broker.h"
#include "svckit/config.h"
#include "svckit/core.h"
#include "svckit/ctx.h"
#include "svckit/http.h"
#include "svckit/log.h"
#include "svckit/outbox.h"
#include "svckit/pg.h"
#include "svckit/pgqueue.h"
#include "svckit/relay.h"

#endif /* SVCKIT_SVCKIT_H */
