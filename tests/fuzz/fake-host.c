/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fake-host.c - the fuzz targets' fake host (see fake-host.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/plugin.h>

#include "fake-host.h"

/* The host table is the first member, so the instance pointer is ours. */
static struct fake_host *fake_of(const struct vmm_host *h)
{
	return (struct fake_host *)(void *)h;
}

static bool fake_ram_range_ok(const struct fake_host *fh, uint64_t gpa, size_t len)
{
	return gpa <= fh->ram_size && len <= fh->ram_size - gpa;
}

static const char *fake_instance_name(const struct vmm_host *h)
{
	return "fuzz";
}

static void fake_log(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
{
	/* Silent: a fuzzer prints millions of guest errors otherwise.
	 * Formatting still runs, so a bad format argument is caught.
	 * FUZZ_LOG=1 prints the lines (replaying one input by hand). */
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (getenv("FUZZ_LOG"))
		fprintf(stderr, "fuzz: %s\n", line);
	if (level == VMM_LOG_GUEST_ERROR)
		fake_of(h)->guest_errors++;
}

static const char *fake_prop(const struct fake_host *fh, const char *name)
{
	for (unsigned i = 0; i < fh->nprops; i++)
		if (!strcmp(fh->prop_names[i], name))
			return fh->prop_values[i];
	return NULL;
}

static int fake_prop_int(const struct vmm_host *h, const char *name, int64_t *out)
{
	const char *v = fake_prop(fake_of(h), name);

	if (!v)
		return -ENOENT;
	*out = strtoll(v, NULL, 0);
	return 0;
}

static int fake_prop_bool(const struct vmm_host *h, const char *name, bool *out)
{
	const char *v = fake_prop(fake_of(h), name);

	if (!v)
		return -ENOENT;
	*out = !strcmp(v, "true") || !strcmp(v, "1");
	return 0;
}

static const char *fake_prop_str(const struct vmm_host *h, const char *name)
{
	return fake_prop(fake_of(h), name);
}

static int fake_bus_map(const struct vmm_host *h, enum vmm_bus bus, uint64_t base, uint64_t len,
			const struct vmm_region_ops *ops, void *opaque)
{
	struct fake_host *fh = fake_of(h);

	if (bus != VMM_BUS_MMIO || fh->mapped || len == 0 || base + len < base)
		return -EINVAL;
	fh->mapped = true;
	fh->region_base = base;
	fh->region_len = len;
	fh->region_ops = ops;
	fh->region_opaque = opaque;
	return 0;
}

static int fake_bus_unmap(const struct vmm_host *h, enum vmm_bus bus, uint64_t base)
{
	struct fake_host *fh = fake_of(h);

	if (!fh->mapped || bus != VMM_BUS_MMIO || base != fh->region_base)
		return -ENOENT;
	fh->mapped = false;
	return 0;
}

/* One line; any non-NULL token will do. */
static struct vmm_irq_line *fake_irq_line(const struct vmm_host *h, uint32_t line)
{
	return (struct vmm_irq_line *)(void *)&fake_of(h)->irq_level;
}

static void fake_irq_set(const struct vmm_host *h, struct vmm_irq_line *line, int level)
{
	struct fake_host *fh = fake_of(h);

	if (level && !fh->irq_level)
		fh->irq_raises++;
	fh->irq_level = level != 0;
}

static int fake_mem_read(const struct vmm_host *h, uint64_t gpa, void *buf, size_t len)
{
	struct fake_host *fh = fake_of(h);

	if (!fake_ram_range_ok(fh, gpa, len))
		return -EFAULT;
	memcpy(buf, fh->ram + gpa, len);
	return 0;
}

static int fake_mem_write(const struct vmm_host *h, uint64_t gpa, const void *buf, size_t len)
{
	struct fake_host *fh = fake_of(h);

	if (!fake_ram_range_ok(fh, gpa, len))
		return -EFAULT;
	memcpy(fh->ram + gpa, buf, len);
	return 0;
}

static void *fake_mem_map(const struct vmm_host *h, uint64_t gpa, size_t len)
{
	struct fake_host *fh = fake_of(h);

	return fake_ram_range_ok(fh, gpa, len) ? fh->ram + gpa : NULL;
}

static uint64_t fake_clock_ns(const struct vmm_host *h)
{
	return fake_of(h)->clock;
}

static struct vmm_timer *fake_timer_new(const struct vmm_host *h, void (*cb)(void *opaque),
					void *opaque)
{
	struct fake_host *fh = fake_of(h);

	for (unsigned i = 0; i < FAKE_MAX_TIMERS; i++) {
		struct fake_timer *t = &fh->timers[i];

		if (!t->used) {
			memset(t, 0, sizeof(*t));
			t->used = true;
			t->cb = cb;
			t->opaque = opaque;
			return (struct vmm_timer *)(void *)t;
		}
	}
	return NULL;
}

static void fake_timer_arm(const struct vmm_host *h, struct vmm_timer *t, uint64_t deadline_ns)
{
	struct fake_timer *ft = (struct fake_timer *)(void *)t;

	ft->armed = true;
	ft->deadline = deadline_ns;
}

static void fake_timer_cancel(const struct vmm_host *h, struct vmm_timer *t)
{
	((struct fake_timer *)(void *)t)->armed = false;
}

static void fake_timer_free(const struct vmm_host *h, struct vmm_timer *t)
{
	memset(t, 0, sizeof(struct fake_timer));
}

static uint64_t fake_ram_size(const struct vmm_host *h)
{
	return fake_of(h)->ram_size;
}

static int fake_describe(const struct vmm_host *h, const struct vmm_device_desc *d)
{
	return 0;
}

static struct vmm_block *fake_block_open(const struct vmm_host *h, const char *prop,
					 struct vmm_block_info *info)
{
	struct fake_host *fh = fake_of(h);

	if (!fh->disk || fh->disk_open || !fake_prop(fh, prop))
		return NULL;
	fh->disk_open = true;
	info->flags = fh->disk_flags;
	info->bytes = fh->disk_bytes;
	return (struct vmm_block *)(void *)fh->disk;
}

static size_t fake_iov_bytes(const struct iovec *iov, int n)
{
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

/* What the core's block_io checks before a backend sees a request, then a
 * RAM disk. */
static int fake_block_io(const struct vmm_host *h, struct vmm_block *b,
			 const struct vmm_block_req *req)
{
	struct fake_host *fh = fake_of(h);
	uint64_t len = req->len, off = req->offset;
	uint8_t *p;

	fh->disk_ops++;
	if (req->op == VMM_BLOCK_OP_READ || req->op == VMM_BLOCK_OP_WRITE) {
		if (req->iovcnt < 0 || req->iovcnt > 1024 || (req->iovcnt && !req->iov)) {
			fh->disk_refused++;
			return -EINVAL;
		}
		len = fake_iov_bytes(req->iov, req->iovcnt);
	}
	if (req->op == VMM_BLOCK_OP_FLUSH)
		return 0;
	if (req->op > VMM_BLOCK_OP_WRITE_ZEROES || off > fh->disk_bytes ||
	    len > fh->disk_bytes - off) {
		fh->disk_refused++;
		return -EINVAL;
	}
	if (req->op != VMM_BLOCK_OP_READ && (fh->disk_flags & VMM_BLOCK_READONLY)) {
		fh->disk_refused++;
		return -EROFS;
	}
	p = fh->disk + off;
	switch (req->op) {
	case VMM_BLOCK_OP_READ:
		for (int i = 0; i < req->iovcnt; p += req->iov[i].iov_len, i++)
			memcpy(req->iov[i].iov_base, p, req->iov[i].iov_len);
		return 0;
	case VMM_BLOCK_OP_WRITE:
		for (int i = 0; i < req->iovcnt; p += req->iov[i].iov_len, i++)
			memcpy(p, req->iov[i].iov_base, req->iov[i].iov_len);
		return 0;
	case VMM_BLOCK_OP_DISCARD:
		if (!(fh->disk_flags & VMM_BLOCK_DISCARD))
			return -EOPNOTSUPP;
		/* fall through: a discarded range of a RAM disk reads as zero */
	default:
		memset(p, 0, len);
		return 0;
	}
}

/* ---- net backend: the core's checks (core/net.c), then a sink ---- */

static struct vmm_net *fake_net_open(const struct vmm_host *h, const char *prop,
				     const struct vmm_net_client *client, void *opaque,
				     struct vmm_net_info *info)
{
	struct fake_host *fh = fake_of(h);

	if (!fh->net_present || fh->net_open || !fake_prop(fh, prop) || !client ||
	    !client->can_receive || !client->receive)
		return NULL;
	fh->net_open = true;
	fh->net_client = client;
	fh->net_opaque = opaque;
	info->flags = fh->net_has_mac ? VMM_NET_HAS_MAC : 0;
	info->offloads = fh->net_caps;
	if (fh->net_has_mac)
		memcpy(info->mac, "\x02\x11\x22\x33\x44\x55", 6);
	return (struct vmm_net *)(void *)&fh->net_present;
}

static int fake_net_send(const struct vmm_host *h, struct vmm_net *n, const struct iovec *iov,
			 int iovcnt)
{
	struct fake_host *fh = fake_of(h);
	static uint8_t sink[64];
	size_t total = 0;

	if (iovcnt < 0 || iovcnt > 1024 || (iovcnt && !iov)) {
		fh->net_refused++;
		return -EINVAL;
	}
	for (int i = 0; i < iovcnt; i++) {
		const uint8_t *p = iov[i].iov_base;

		/* Read every byte: a segment outside RAM is an ASan report. */
		for (size_t off = 0; off < iov[i].iov_len; off += sizeof(sink)) {
			size_t l = iov[i].iov_len - off < sizeof(sink) ? iov[i].iov_len - off : sizeof(sink);
			memcpy(sink, p + off, l);
		}
		total += iov[i].iov_len;
	}
	if (total < sizeof(struct vmm_net_hdr) || total - sizeof(struct vmm_net_hdr) > VMM_NET_FRAME_MAX) {
		fh->net_refused++;
		return -EINVAL;
	}
	fh->net_sent++;
	fh->net_sent_bytes += total;
	return 0;
}

static void fake_net_input_ready(const struct vmm_host *h, struct vmm_net *n)
{
	fake_of(h)->net_ready = true;
}

static int fake_net_set_offloads(const struct vmm_host *h, struct vmm_net *n, uint32_t offloads)
{
	struct fake_host *fh = fake_of(h);

	if (offloads & ~fh->net_caps) {
		fh->net_refused++;
		return -EINVAL;
	}
	fh->net_offloads = offloads;
	return 0;
}

void fake_host_add_net(struct fake_host *fh, uint32_t caps, bool mac)
{
	fh->net_present = true;
	fh->net_caps = caps;
	fh->net_has_mac = mac;
}

/* Offer the waiting frame as the core's net_input does. */
static void fake_net_deliver(struct fake_host *fh)
{
	struct iovec iov[2];
	int rc;

	if (!fh->net_pending || fh->net_paused || !fh->net_client)
		return;
	iov[0] = (struct iovec){ fh->net_pending, fh->net_pending_split };
	iov[1] = (struct iovec){ fh->net_pending + fh->net_pending_split,
				 fh->net_pending_len - fh->net_pending_split };
	rc = fh->net_client->can_receive(fh->net_opaque)
		     ? fh->net_client->receive(fh->net_opaque, iov, 2)
		     : -EAGAIN;
	if (rc == -EAGAIN) {
		fh->net_paused = true;
		return;
	}
	fh->net_received++;
	free(fh->net_pending);
	fh->net_pending = NULL;
}

int fake_host_net_inject(struct fake_host *fh, const void *frame, size_t len, size_t split)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, frame, len);
	free(fh->net_pending);
	fh->net_pending = p;
	fh->net_pending_len = len;
	fh->net_pending_split = split < len ? split : len;
	fake_net_deliver(fh);
	return 0;
}

/* ---- char backend ---- */

static struct vmm_char *fake_char_open(const struct vmm_host *h, const char *prop,
				       const struct vmm_char_client *client, void *opaque)
{
	struct fake_host *fh = fake_of(h);

	if (!fh->char_present || !fake_prop(fh, prop))
		return NULL;
	for (unsigned i = 0; i < FAKE_CHARS; i++) {
		struct fake_char *fc = &fh->chars[i];

		if (fc->open)
			continue;
		fc->open = true;
		fc->client = client;
		fc->opaque = opaque;
		return (struct vmm_char *)(void *)fc;
	}
	return NULL;
}

static ssize_t fake_char_write(const struct vmm_host *h, struct vmm_char *c, const void *buf,
			       size_t len)
{
	struct fake_host *fh = fake_of(h);
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		fh->char_out[(fh->char_out_bytes + i) % sizeof(fh->char_out)] = p[i];
	fh->char_out_bytes += len;
	return (ssize_t)len;
}

static void fake_char_input_ready(const struct vmm_host *h, struct vmm_char *c)
{
	((struct fake_char *)(void *)c)->ready = true;
}

void fake_host_add_char(struct fake_host *fh)
{
	fh->char_present = true;
}

/* A backend's read loop: char_input_room(), then char_input(). */
static void fake_char_deliver(struct fake_host *fh, struct fake_char *fc)
{
	while (fc->pending_len && !fc->paused && fc->client) {
		size_t room = fc->client->can_receive(fc->opaque), n;

		if (!room) {
			fc->paused = true;
			return;
		}
		/* host_char_input() asks again, as the core does. */
		room = fc->client->can_receive(fc->opaque);
		n = fc->pending_len < room ? fc->pending_len : room;
		if (!n) {
			fc->paused = true;
			return;
		}
		fc->client->receive(fc->opaque, fc->pending, n);
		fh->char_in_bytes += n;
		memmove(fc->pending, fc->pending + n, fc->pending_len - n);
		fc->pending_len -= n;
	}
}

void fake_host_char_inject(struct fake_host *fh, unsigned which, const void *buf, size_t len)
{
	struct fake_char *fc = &fh->chars[which % FAKE_CHARS];
	size_t room = sizeof(fc->pending) - fc->pending_len;

	if (len > room)
		len = room;
	memcpy(fc->pending + fc->pending_len, buf, len);
	fc->pending_len += len;
	fake_char_deliver(fh, fc);
}

void fake_host_poll(struct fake_host *fh)
{
	if (fh->net_ready) {
		fh->net_ready = false;
		fh->net_paused = false;
		fake_net_deliver(fh);
	}
	for (unsigned i = 0; i < FAKE_CHARS; i++) {
		struct fake_char *fc = &fh->chars[i];

		if (fc->ready) {
			fc->ready = false;
			fc->paused = false;
			fake_char_deliver(fh, fc);
		}
	}
}

int fake_host_init(struct fake_host *fh, size_t ram_size, uint64_t disk_bytes,
		   uint32_t disk_flags)
{
	memset(fh, 0, sizeof(*fh));
	fh->ram = calloc(1, ram_size ? ram_size : 1);
	if (!fh->ram)
		return -ENOMEM;
	fh->ram_size = ram_size;
	if (disk_bytes) {
		fh->disk = calloc(1, disk_bytes);
		if (!fh->disk) {
			free(fh->ram);
			return -ENOMEM;
		}
		fh->disk_bytes = disk_bytes;
		fh->disk_flags = disk_flags;
	}
	fh->h = (struct vmm_host){
		.size = sizeof(struct vmm_host),
		.abi_minor = VMM_ABI_MINOR,
		.instance_name = fake_instance_name,
		.log = fake_log,
		.prop_int = fake_prop_int,
		.prop_bool = fake_prop_bool,
		.prop_str = fake_prop_str,
		.bus_map = fake_bus_map,
		.bus_unmap = fake_bus_unmap,
		.irq_line = fake_irq_line,
		.irq_set = fake_irq_set,
		.mem_read = fake_mem_read,
		.mem_write = fake_mem_write,
		.mem_map = fake_mem_map,
		.clock_ns = fake_clock_ns,
		.timer_new = fake_timer_new,
		.timer_arm = fake_timer_arm,
		.timer_cancel = fake_timer_cancel,
		.timer_free = fake_timer_free,
		.ram_size = fake_ram_size,
		.describe = fake_describe,
		.block_open = fake_block_open,
		.block_io = fake_block_io,
		.char_open = fake_char_open,
		.char_write = fake_char_write,
		.char_input_ready = fake_char_input_ready,
		.net_open = fake_net_open,
		.net_send = fake_net_send,
		.net_input_ready = fake_net_input_ready,
		.net_set_offloads = fake_net_set_offloads,
	};
	return 0;
}

void fake_host_fini(struct fake_host *fh)
{
	free(fh->ram);
	free(fh->disk);
	free(fh->net_pending);
	fh->ram = fh->disk = NULL;
	fh->net_pending = NULL;
}

void fake_host_set_prop(struct fake_host *fh, const char *name, const char *value)
{
	if (fh->nprops < FAKE_MAX_PROPS) {
		fh->prop_names[fh->nprops] = name;
		fh->prop_values[fh->nprops] = value;
		fh->nprops++;
	}
}

/* Accesses inside the region, as the core's bus gives them: whole, with
 * an offset inside and a size the region accepts. */
static bool fake_region_hit(const struct fake_host *fh, uint64_t gpa, unsigned len)
{
	uint32_t sizes = fh->region_ops->access_sizes ? fh->region_ops->access_sizes
						      : VMM_ACCESS_ANY;

	return fh->mapped && gpa >= fh->region_base && gpa - fh->region_base < fh->region_len &&
	       len <= fh->region_len - (gpa - fh->region_base) && (sizes & len);
}

uint64_t fake_host_mmio_read(struct fake_host *fh, uint64_t gpa, unsigned len)
{
	uint64_t v = 0;

	if (!fake_region_hit(fh, gpa, len) ||
	    fh->region_ops->read(fh->region_opaque, 0, gpa - fh->region_base, len, &v))
		return ~0ull;
	return v;
}

void fake_host_mmio_write(struct fake_host *fh, uint64_t gpa, unsigned len, uint64_t value)
{
	if (len < 8)
		value &= (1ull << (8 * len)) - 1;
	if (fake_region_hit(fh, gpa, len))
		fh->region_ops->write(fh->region_opaque, 0, gpa - fh->region_base, len, value);
}

unsigned fake_host_run_timers(struct fake_host *fh, uint64_t ns)
{
	unsigned ran = 0;

	fh->clock += ns;
	for (unsigned round = 0; round < 16; round++) {
		bool any = false;

		for (unsigned i = 0; i < FAKE_MAX_TIMERS; i++) {
			struct fake_timer *t = &fh->timers[i];

			if (t->used && t->armed && t->deadline <= fh->clock) {
				t->armed = false;
				t->cb(t->opaque);
				ran++;
				any = true;
			}
		}
		if (!any)
			break;
	}
	return ran;
}
