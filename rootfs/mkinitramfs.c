/* mkinitramfs: the kernel and base initramfs of netsim's QEMU nodes, from Debian
 * packages, without dpkg and without root.
 *
 *   mkinitramfs -o DIR --kernel-deb linux-image-*.deb --busybox-deb busybox-static*.deb
 *               --init FILE --agent FILE MODULE...
 *
 * Writes into DIR (which must exist):
 *   vmlinuz               the package's boot/vmlinuz-*
 *   initramfs.cpio.gz     newc cpio, gzip: netsim/init, netsim/agent,
 *                         netsim/bin/busybox, netsim/modules/NAME.ko and
 *                         netsim/modules/order (load order), /proc /sys /dev
 *   modules               the module names it holds, one a line (load order)
 *   release               the kernel release (e.g. 6.1.0-56-amd64)
 *
 * The package has no modules.dep (depmod makes it at install time), so each
 * module's dependencies come from the "depends=" entry of its .modinfo ELF
 * section.  That takes a first pass over the package; the second copies the
 * dependency closure of the asked MODULEs, dependencies first.  Modules built into
 * the kernel (modules.builtin) are fine to ask for and need no file.  .ko.xz
 * modules are decompressed here (libarchive's xz filter), so busybox insmod in the
 * guest only ever sees plain ELF.  Fixed mtimes (SOURCE_DATE_EPOCH, else 0) and a
 * timestamp-free gzip header make the output reproducible. */
#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "deb.h"
#include "error.h"
#include "util.h"

struct module {
	char name[64];        /* normalized: '-' -> '_' */
	char *path;           /* entry path in the package */
	char *depends;        /* comma-separated normalized names, or "" */
	bool wanted, ordered, visiting;
	unsigned char *data;  /* contents (second pass, wanted modules only) */
	size_t size;
};

struct kernel_package {
	const char *deb;
	struct module *modules;
	size_t n_modules, cap_modules;
	char **builtin;       /* normalized names of built-in modules */
	size_t n_builtin, cap_builtin;
	char release[128];
	bool have_vmlinuz;
	struct module **order;
	size_t n_order;
};

static void normalize_name(char *name)
{
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* "kernel/net/batman-adv/batman-adv.ko.xz" -> "batman_adv" */
static void module_name_of(const char *path, char *out, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(out, size, "%s", base);
	char *dot = strstr(out, ".ko");
	if (dot)
		*dot = '\0';
	normalize_name(out);
}

static struct module *find_module(struct kernel_package *k, const char *name)
{
	for (size_t i = 0; i < k->n_modules; i++)
		if (strcmp(k->modules[i].name, name) == 0)
			return &k->modules[i];
	return NULL;
}

static bool is_builtin(const struct kernel_package *k, const char *name)
{
	for (size_t i = 0; i < k->n_builtin; i++)
		if (strcmp(k->builtin[i], name) == 0)
			return true;
	return false;
}

/* The value of "depends=" in the module's .modinfo section ("" when it has none). */
static int modinfo_depends(const unsigned char *data, size_t size, const char *what,
			   char **out, struct error *err)
{
	if (size < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0 ||
	    data[EI_CLASS] != ELFCLASS64)
		return error_setmsg(err, EINVAL, "%s: not a 64-bit ELF module", what);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;
	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size ||
	    eh->e_shstrndx >= eh->e_shnum)
		return error_setmsg(err, EINVAL, "%s: bad ELF section table", what);
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(data + eh->e_shoff);
	const Elf64_Shdr *names = &sh[eh->e_shstrndx];
	if (names->sh_offset + names->sh_size > size)
		return error_setmsg(err, EINVAL, "%s: bad ELF section names", what);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= names->sh_size ||
		    strcmp((const char *)data + names->sh_offset + sh[i].sh_name, ".modinfo") != 0)
			continue;
		if (sh[i].sh_offset + sh[i].sh_size > size)
			return error_setmsg(err, EINVAL, "%s: bad .modinfo section", what);
		const char *p = (const char *)data + sh[i].sh_offset;
		const char *end = p + sh[i].sh_size;
		while (p < end) {
			size_t len = strnlen(p, (size_t)(end - p));
			if (len > 8 && strncmp(p, "depends=", 8) == 0) {
				*out = strndup(p + 8, len - 8);
				goto found;
			}
			p += len + 1;
		}
		*out = strdup("");
found:
		if (!*out)
			return error_set(err, ENOMEM, "%s", what);
		normalize_name(*out);
		return 0;
	}
	*out = strdup("");
	return *out ? 0 : error_set(err, ENOMEM, "%s", what);
}

static int read_entry(struct archive *a, const char *what, unsigned char **out, size_t *size,
		      struct error *err)
{
	size_t cap = 1 << 16, len = 0;
	cleanup_free unsigned char *buf = malloc(cap);
	if (!buf)
		return error_set(err, ENOMEM, "%s", what);
	for (;;) {
		if (cap - len < 65536) {
			unsigned char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				return error_set(err, ENOMEM, "%s", what);
			buf = bigger;
			cap *= 2;
		}
		la_ssize_t n = archive_read_data(a, buf + len, cap - len);
		if (n < 0)
			return archive_error(err, a, what);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = steal_pointer(&buf);
	*size = len;
	return 0;
}

/* A .ko.xz is one xz stream: decompress it in memory. */
static int unxz(unsigned char **data, size_t *size, const char *what, struct error *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return error_set(err, ENOMEM, "%s", what);
	archive_read_support_filter_xz(a);
	archive_read_support_format_raw(a);
	int ret;
	struct archive_entry *entry;
	unsigned char *plain = NULL;
	size_t plain_size = 0;
	if (archive_read_open_memory(a, *data, *size) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		ret = archive_error(err, a, what);
		goto out;
	}
	ret = read_entry(a, what, &plain, &plain_size, err);
	if (ret == 0) {
		free(*data);
		*data = plain;
		*size = plain_size;
	}
out:
	archive_read_free(a);
	return ret;
}

typedef int (*entry_handler)(struct kernel_package *k, struct archive *data,
			     struct archive_entry *entry, const char *path, void *arg,
			     struct error *err);

struct walk {
	struct kernel_package *k;
	entry_handler handler;
	void *arg;
};

static int walk_entry(struct archive *data, struct archive_entry *entry, void *walk,
		      struct error *err)
{
	struct walk *w = walk;
	const char *path = archive_entry_pathname(entry);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	return w->handler(w->k, data, entry, path, w->arg, err);
}

/* Calls `handler` for each entry of the package's data.tar.* (paths without "./"). */
static int walk_package(struct kernel_package *k, const char *deb, entry_handler handler,
			void *arg, struct error *err)
{
	struct walk w = {.k = k, .handler = handler, .arg = arg};
	return deb_walk(deb, walk_entry, &w, err);
}

static bool is_module_path(const char *path)
{
	return strncmp(path, "lib/modules/", 12) == 0 &&
	       (strstr(path, ".ko") && (strcmp(strstr(path, ".ko"), ".ko") == 0 ||
					strcmp(strstr(path, ".ko"), ".ko.xz") == 0));
}

static int write_file(const char *path, const unsigned char *data, size_t size,
		      struct error *err)
{
	cleanup_free char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return error_set(err, ENOMEM, "%s", path);
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return error_set(err, errno, "create %s", tmp);
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n < 0)
			return error_set(err, errno, "write %s", tmp);
		done += (size_t)n;
	}
	if (rename(tmp, path) < 0)
		return error_set(err, errno, "rename %s", tmp);
	return 0;
}

/* First pass: every module's name and dependencies, modules.builtin, vmlinuz. */
static int index_entry(struct kernel_package *k, struct archive *data,
		       struct archive_entry *entry, const char *path, void *arg,
		       struct error *err)
{
	const char *out_dir = arg;
	if (archive_entry_filetype(entry) != AE_IFREG)
		return 0;
	if (strncmp(path, "boot/vmlinuz-", 13) == 0) {
		cleanup_free unsigned char *buf = NULL;
		size_t size;
		char out[PATH_MAX];
		snprintf(k->release, sizeof(k->release), "%s", path + 13);
		snprintf(out, sizeof(out), "%s/vmlinuz", out_dir);
		int ret = read_entry(data, path, &buf, &size, err);
		if (ret == 0)
			ret = write_file(out, buf, size, err);
		k->have_vmlinuz = ret == 0;
		return ret;
	}
	const char *builtin = strstr(path, "/modules.builtin");
	if (strncmp(path, "lib/modules/", 12) == 0 && builtin && strcmp(builtin, "/modules.builtin") == 0) {
		cleanup_free unsigned char *buf = NULL;
		size_t size;
		int ret = read_entry(data, path, &buf, &size, err);
		if (ret < 0)
			return ret;
		char *save = NULL;
		buf[size ? size - 1 : 0] = '\0';
		for (char *line = strtok_r((char *)buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (k->n_builtin == k->cap_builtin) {
				k->cap_builtin = k->cap_builtin ? k->cap_builtin * 2 : 1024;
				char **more = realloc(k->builtin, k->cap_builtin * sizeof(*more));
				if (!more)
					return error_set(err, ENOMEM, "modules.builtin");
				k->builtin = more;
			}
			char name[64];
			module_name_of(line, name, sizeof(name));
			if (!(k->builtin[k->n_builtin++] = strdup(name)))
				return error_set(err, ENOMEM, "modules.builtin");
		}
		return 0;
	}
	if (!is_module_path(path))
		return 0;

	cleanup_free unsigned char *buf = NULL;
	size_t size;
	int ret = read_entry(data, path, &buf, &size, err);
	if (ret == 0 && strstr(path, ".ko.xz"))
		ret = unxz(&buf, &size, path, err);
	if (ret < 0)
		return ret;
	if (k->n_modules == k->cap_modules) {
		k->cap_modules = k->cap_modules ? k->cap_modules * 2 : 1024;
		struct module *more = realloc(k->modules, k->cap_modules * sizeof(*more));
		if (!more)
			return error_set(err, ENOMEM, "module index");
		k->modules = more;
	}
	struct module *m = &k->modules[k->n_modules];
	memset(m, 0, sizeof(*m));
	module_name_of(path, m->name, sizeof(m->name));
	if (!(m->path = strdup(path)))
		return error_set(err, ENOMEM, "module index");
	ret = modinfo_depends(buf, size, path, &m->depends, err);
	if (ret < 0) {
		free(m->path);
		return ret;
	}
	k->n_modules++;
	return 0;
}

/* Depth-first: dependencies land in k->order before the modules needing them. */
static int add_with_dependencies(struct kernel_package *k, const char *name, const char *needed_by,
				 struct error *err)
{
	struct module *m = find_module(k, name);
	if (!m) {
		if (is_builtin(k, name))
			return 0;
		if (needed_by)
			return error_setmsg(err, ENOENT, "module %s (needed by %s) is not in %s",
					    name, needed_by, k->deb);
		return error_setmsg(err, ENOENT, "module %s is neither in %s nor built into its kernel",
				    name, k->deb);
	}
	if (m->ordered)
		return 0;
	if (m->visiting)
		return error_setmsg(err, ELOOP, "module %s: circular dependency", name);
	m->visiting = true;
	cleanup_free char *deps = strdup(m->depends);
	if (!deps)
		return error_set(err, ENOMEM, "%s", name);
	char *save = NULL;
	for (char *dep = strtok_r(deps, ",", &save); dep; dep = strtok_r(NULL, ",", &save)) {
		int ret = add_with_dependencies(k, dep, m->name, err);
		if (ret < 0)
			return ret;
	}
	m->visiting = false;
	m->ordered = m->wanted = true;
	k->order[k->n_order++] = m;
	return 0;
}

/* Second pass: the contents of the wanted modules. */
static int collect_entry(struct kernel_package *k, struct archive *data,
			 struct archive_entry *entry, const char *path, void *arg,
			 struct error *err)
{
	(void)arg;
	if (archive_entry_filetype(entry) != AE_IFREG || !is_module_path(path))
		return 0;
	char name[64];
	module_name_of(path, name, sizeof(name));
	struct module *m = find_module(k, name);
	if (!m || !m->wanted || m->data)
		return 0;
	int ret = read_entry(data, path, &m->data, &m->size, err);
	if (ret == 0 && strstr(path, ".ko.xz"))
		ret = unxz(&m->data, &m->size, path, err);
	return ret;
}

/* --- the cpio ------------------------------------------------------------- */

struct cpio {
	struct archive *a;
	time_t mtime;
	unsigned ino;
};

static int cpio_add(struct cpio *c, const char *path, mode_t type, mode_t perm,
		    const void *data, size_t size, const char *symlink, struct error *err)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return error_set(err, ENOMEM, "%s", path);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_mtime(e, c->mtime, 0);
	archive_entry_set_ino(e, ++c->ino);
	archive_entry_set_nlink(e, type == AE_IFDIR ? 2 : 1);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)size : 0);
	int ret = 0;
	if (archive_write_header(c->a, e) < ARCHIVE_WARN ||
	    (size && archive_write_data(c->a, data, size) != (la_ssize_t)size))
		ret = archive_error(err, c->a, path);
	archive_entry_free(e);
	return ret;
}

static int cpio_add_file(struct cpio *c, const char *source, const char *path, mode_t perm,
			 struct error *err)
{
	cleanup_close int fd = open(source, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "open %s", source);
	cleanup_free char *buf = NULL;
	size_t n;
	/* (the largest file is the static guest agent, well under the cap) */
	int r = read_fd_all(fd, 256u << 20, &buf, &n);
	if (r < 0)
		return error_set(err, -r, "read %s", source);
	return cpio_add(c, path, AE_IFREG, perm, (unsigned char *)buf, n, NULL, err);
}

/* bin/busybox out of the busybox-static package. */
struct busybox_find {
	struct cpio *c;
	bool found;
};

static int busybox_entry(struct kernel_package *k, struct archive *data,
			 struct archive_entry *entry, const char *path, void *arg,
			 struct error *err)
{
	(void)k;
	struct busybox_find *f = arg;
	if (strcmp(path, "bin/busybox") != 0 || archive_entry_filetype(entry) != AE_IFREG)
		return 0;
	cleanup_free unsigned char *buf = NULL;
	size_t size;
	int ret = read_entry(data, path, &buf, &size, err);
	if (ret < 0)
		return ret;
	f->found = true;
	return cpio_add(f->c, "netsim/bin/busybox", AE_IFREG, 0755, buf, size, NULL, err);
}

static int write_initramfs(struct kernel_package *k, const char *out_dir, const char *busybox_deb,
			   const char *init, const char *agent, time_t mtime, struct error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/initramfs.cpio.gz", out_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct cpio c = { .a = archive_write_new(), .mtime = mtime };
	int ret = 0;
	if (!c.a)
		return error_set(err, ENOMEM, "archive_write_new");
	if (archive_write_set_format_cpio_newc(c.a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(c.a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(c.a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_open_filename(c.a, tmp) != ARCHIVE_OK) {
		ret = archive_error(err, c.a, tmp);
		goto out;
	}
	static const char *const dirs[] = { "dev", "proc", "sys", "netsim", "netsim/bin",
					    "netsim/modules" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((ret = cpio_add(&c, dirs[i], AE_IFDIR, 0755, NULL, 0, NULL, err)) < 0)
			goto out;
	if ((ret = cpio_add_file(&c, init, "netsim/init", 0755, err)) < 0 ||
	    (ret = cpio_add_file(&c, agent, "netsim/agent", 0755, err)) < 0)
		goto out;
	struct busybox_find f = { .c = &c };
	if ((ret = walk_package(k, busybox_deb, busybox_entry, &f, err)) < 0)
		goto out;
	if (!f.found) {
		ret = error_setmsg(err, ENOENT, "%s has no bin/busybox", busybox_deb);
		goto out;
	}
	size_t order_len = 0;
	static char order[65536];
	for (size_t i = 0; i < k->n_order; i++) {
		struct module *m = k->order[i];
		char name[PATH_MAX];
		snprintf(name, sizeof(name), "netsim/modules/%s.ko", m->name);
		if ((ret = cpio_add(&c, name, AE_IFREG, 0644, m->data, m->size, NULL, err)) < 0)
			goto out;
		order_len += (size_t)snprintf(order + order_len, sizeof(order) - order_len, "%s\n",
					      m->name);
	}
	if ((ret = cpio_add(&c, "netsim/modules/order", AE_IFREG, 0644, order, order_len, NULL,
			    err)) < 0)
		goto out;
	if (archive_write_close(c.a) != ARCHIVE_OK) {
		ret = archive_error(err, c.a, tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		ret = error_set(err, errno, "rename %s", tmp);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/modules", out_dir);
	if ((ret = write_file(path, (unsigned char *)order, order_len, err)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/release", out_dir);
	char release[160];
	int n = snprintf(release, sizeof(release), "%s\n", k->release);
	ret = write_file(path, (unsigned char *)release, (size_t)n, err);
out:
	archive_write_free(c.a);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mkinitramfs -o DIR --kernel-deb DEB --busybox-deb DEB --init FILE\n"
		   "                   --agent FILE MODULE...\n"
		   "Writes DIR/vmlinuz, DIR/initramfs.cpio.gz (the MODULEs and their\n"
		   "dependencies, busybox, init, agent), DIR/modules and DIR/release.\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "kernel-deb", required_argument, NULL, 'k' },
		{ "busybox-deb", required_argument, NULL, 'b' },
		{ "init", required_argument, NULL, 'i' },
		{ "agent", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_dir = NULL, *busybox_deb = NULL, *init = NULL, *agent = NULL;
	struct kernel_package k = { 0 };
	struct error err = { 0 };
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o': out_dir = optarg; break;
		case 'k': k.deb = optarg; break;
		case 'b': busybox_deb = optarg; break;
		case 'i': init = optarg; break;
		case 'a': agent = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!out_dir || !k.deb || !busybox_deb || !init || !agent || optind == argc) {
		usage(stderr);
		return 2;
	}
	time_t mtime = 0;
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	if (epoch && *epoch)
		mtime = (time_t)strtoll(epoch, NULL, 10);

	ret = walk_package(&k, k.deb, index_entry, (void *)out_dir, &err);
	if (ret == 0 && !k.have_vmlinuz)
		ret = error_setmsg(&err, ENOENT, "%s has no boot/vmlinuz-*", k.deb);
	if (ret == 0 && !(k.order = calloc(k.n_modules + 1, sizeof(*k.order))))
		ret = error_set(&err, ENOMEM, "module order");
	for (int i = optind; ret == 0 && i < argc; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s", argv[i]);
		normalize_name(name);
		ret = add_with_dependencies(&k, name, NULL, &err);
	}
	if (ret == 0)
		ret = walk_package(&k, k.deb, collect_entry, NULL, &err);
	for (size_t i = 0; ret == 0 && i < k.n_order; i++)
		if (!k.order[i]->data)
			ret = error_setmsg(&err, EIO, "%s: vanished on the second pass", k.order[i]->path);
	if (ret == 0)
		ret = write_initramfs(&k, out_dir, busybox_deb, init, agent, mtime, &err);
	if (ret == 0)
		printf("mkinitramfs: kernel %s, %zu modules (of %zu) into %s\n", k.release, k.n_order,
		       k.n_modules, out_dir);

	for (size_t i = 0; i < k.n_modules; i++) {
		free(k.modules[i].path);
		free(k.modules[i].depends);
		free(k.modules[i].data);
	}
	for (size_t i = 0; i < k.n_builtin; i++)
		free(k.builtin[i]);
	free(k.builtin);
	free(k.modules);
	free(k.order);
	if (ret < 0) {
		fprintf(stderr, "mkinitramfs: %s\n", err.msg);
		return 1;
	}
	return 0;
}
