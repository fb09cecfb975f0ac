#include "dynload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

void dynload_open(const char *soname, const dynload_sym *syms, size_t n)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	size_t i;
	if (!h) {
		fprintf(stderr, "kstage: fatal: cannot load %s: %s\n", soname, dlerror());
		exit(70);
	}
	for (i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			fprintf(stderr, "kstage: fatal: %s has no %s: %s\n", soname, syms[i].name, dlerror());
			exit(70);
		}
	}
}
