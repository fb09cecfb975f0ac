/*
 * core/banned.h - functions we do not use (git's banned.h): unbounded or
 * not reentrant. `make lint` (part of `make test`) fails on any call to them
 * under installer/; a file may also include this header last to get a
 * compile error instead.
 */
#ifndef KSTAGE_CORE_BANNED_H
#define KSTAGE_CORE_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)

#endif
