/*
 * Heap allocation counter, loaded with LD_PRELOAD:
 *
 *   cc -shared -fPIC -O2 -o alloc_count.so alloc_count.c
 *   LD_PRELOAD=./alloc_count.so ./bench ...
 *
 * Counts the calls of malloc, calloc and realloc made by the whole process, including the
 * dynamic loader's and libc's own, and prints one line to stderr when the process exits:
 *
 *   alloc_count: malloc=M calloc=C realloc=R aligned=A total=T
 *
 * aligned counts posix_memalign, aligned_alloc, memalign and valloc, because Rust's System
 * allocator calls posix_memalign for alignments above 16 bytes. total is the sum of all
 * four. Per-operation figures come from two runs that differ
 * only in their operation count, so start-up and exit allocations cancel.
 *
 * The counted functions forward to glibc's __libc_malloc, __libc_calloc, __libc_realloc and
 * __libc_memalign instead of looking up the next definition with dlsym, which itself calls
 * calloc. This ties the shim to glibc.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static unsigned long malloc_calls;
static unsigned long calloc_calls;
static unsigned long realloc_calls;
static unsigned long aligned_calls;

static void count(unsigned long *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t size)
{
    count(&malloc_calls);
    return __libc_malloc(size);
}

void *calloc(size_t count_, size_t size)
{
    count(&calloc_calls);
    return __libc_calloc(count_, size);
}

void *realloc(void *pointer, size_t size)
{
    count(&realloc_calls);
    return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size)
{
    count(&aligned_calls);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    count(&aligned_calls);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size)
{
    count(&aligned_calls);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    count(&aligned_calls);
    /* The checks posix_memalign makes and memalign does not. */
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) {
        return EINVAL;
    }
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) {
        return ENOMEM;
    }
    *out = pointer;
    return 0;
}

/* Runs after main returns or exit is called. Formats on the stack and uses write(2), so
 * printing itself allocates nothing. */
__attribute__((destructor)) static void print_counts(void)
{
    char line[160];
    unsigned long total = __atomic_load_n(&malloc_calls, __ATOMIC_RELAXED) +
                          __atomic_load_n(&calloc_calls, __ATOMIC_RELAXED) +
                          __atomic_load_n(&realloc_calls, __ATOMIC_RELAXED) +
                          __atomic_load_n(&aligned_calls, __ATOMIC_RELAXED);
    int length = snprintf(line, sizeof line,
                          "alloc_count: malloc=%lu calloc=%lu realloc=%lu aligned=%lu total=%lu\n",
                          malloc_calls, calloc_calls, realloc_calls, aligned_calls, total);
    if (length > 0) {
        ssize_t ignored = write(STDERR_FILENO, line, (size_t)length);
        (void)ignored;
    }
}
