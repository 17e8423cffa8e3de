/*
 * version.c — the version of the library that was linked, as opposed to the
 * SVK_VERSION_* macros of the header that was compiled against.
 */
#include "svckit/core.h"

SVK_API const char *svk_version(void)
{
    return SVK_VERSION_STRING;
}

SVK_API unsigned svk_version_num(void)
{
    return SVK_VERSION_NUM;
}
