/*
 * Loading libmemcached.so.11 must make the Cyrus SASL symbols available to
 * the loading object. Debian's libmemcached.so.11 lists libsasl2.so.2 as
 * DT_NEEDED. pylibmc's _pylibmc.so (python3-pylibmc) calls sasl_client_init
 * and sasl_done without linking libsasl2 itself, so "import pylibmc" fails
 * with "undefined symbol: sasl_done" when the library does not bring
 * libsasl2 along.
 *
 * Usage: sasl_symbols_via_libmemcached [PORT]   (PORT is ignored)
 * Prints "mapped PATH" for the libmemcached file it loaded. Exits 0 when
 * dlsym finds both symbols through libmemcached's handle.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    /* dlsym on a library handle searches that library and its dependencies. */
    void *library = dlopen("libmemcached.so.11", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        printf("dlopen libmemcached.so.11 failed: %s\n", dlerror());
        return 1;
    }
    Dl_info origin;
    void *create = dlsym(library, "memcached_create");
    if (create != NULL && dladdr(create, &origin) != 0) {
        printf("mapped %s\n", origin.dli_fname);
    }

    int failed = 0;
    const char *symbols[] = {"sasl_client_init", "sasl_done"};
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (dlsym(library, symbols[i]) == NULL) {
            printf("%s is not reachable from libmemcached.so.11 (expected through its "
                   "DT_NEEDED libsasl2.so.2)\n", symbols[i]);
            failed = 1;
        }
    }
    dlclose(library);
    return failed;
}
