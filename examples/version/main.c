/*
 * svk-version — the smallest program that links libsvckit: prints the
 * library version and a few fresh UUIDv7 ids. Until the example services
 * exist, scripts/demo runs this.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svckit/svckit.h>

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 3;
    if (strcmp(svk_version(), SVK_VERSION_STRING) != 0) {
        fprintf(stderr, "svk-version: header %s but library %s\n", SVK_VERSION_STRING,
                svk_version());
        return 1;
    }
    printf("libsvckit %s\n", svk_version());
    for (int i = 0; i < count; i++) {
        svk_uuid id;
        int rc = svk_uuid_v7(&id);
        if (rc != 0) {
            fprintf(stderr, "svk-version: uuid: %s\n", svk_strerror(rc));
            return 1;
        }
        char text[SVK_UUID_STRLEN + 1];
        svk_uuid_format(&id, text);
        printf("%s\n", text);
    }
    return 0;
}
