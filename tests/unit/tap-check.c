/* tests/unit/tap-check.c - virtio-net.so on the real net-tap.so through the
 * harness, on the tap named in argv[1] (tests/cli/tap.sh creates it): a
 * frame the guest transmits appears on the tap (read with an AF_PACKET
 * socket), and a frame sent into the tap reaches the guest's receive
 * buffer; `ip link set TAP down` / `up` on the host reaches the guest as
 * its link status with a config-change interrupt.  Exit 0 pass, 1 fail. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/harness.h>

#include "device-fixture.h"
#include "virtio-driver.h"
#include "proc-fd.h"

#define HDR 12u
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

static const char *ifname;

static void trigger(int fd)
{
	vmm_harness_fd_trigger(F->h, fd, VMM_FD_READ);
}

static void test_tap_frames(void **state)
{
	const char *bprops[2] = { NULL, NULL };
	char prop[40];
	uint8_t frame[64];
	uint32_t id, len;

	snprintf(prop, sizeof(prop), "ifname=%s", ifname);
	bprops[0] = prop;
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	assert_int_equal(vmm_harness_add_backend(F->h, "tap0", "net-tap", bprops), 0);
	static const char *const dprops[] = { "net=tap0", NULL };
	assert_non_null(drv_create("virtio-net", dprops));
	assert_int_equal(drv_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5), 2, 16) &
				 VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);

	unsigned ifindex = if_nametoindex(ifname);
	assert_true(ifindex > 0);
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_TEST));
	assert_true(s >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_TEST),
				   .sll_ifindex = (int)ifindex };
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);

	/* Guest to host: broadcast frame of our ethertype. */
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x76\x6d\x6d\x00\x01", 6);
	frame[12] = ETHERTYPE_TEST >> 8;
	frame[13] = ETHERTYPE_TEST & 0xff;
	for (unsigned i = 14; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	memset(gpa_ptr(VDEV_BUF), 0, HDR);
	memcpy(gpa_ptr(VDEV_BUF + HDR), frame, sizeof(frame));
	struct drv_buf tx = { VDEV_BUF, HDR + sizeof(frame), false };
	drv_add(1, &tx, 1);
	drv_kick(1);
	assert_true(drv_get_used(1, &id, &len));

	uint8_t got[2048];
	struct pollfd p = { .fd = s, .events = POLLIN };
	ssize_t n = -1;
	/* Skip anything else the kernel sends on a new link. */
	for (int tries = 0; tries < 20; tries++) {
		assert_int_equal(poll(&p, 1, 2000), 1);
		n = recv(s, got, sizeof(got), 0);
		if (n == (ssize_t)sizeof(frame) && memcmp(got, frame, sizeof(frame)) == 0)
			break;
	}
	assert_int_equal(n, sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));

	/* Host to guest: a frame sent on the interface is read by net-tap. */
	/* Each receive buffer at its own address: the kernel's own frames on
	 * a new link (IPv6 router solicitations, MLD) may land in the same
	 * batch, and must not overwrite ours. */
	enum { NRX = 32 };
	unsigned next_rx = 0;
	struct drv_buf rx;
	for (int i = 0; i < 8; i++) {
		rx = (struct drv_buf){ VDEV_BUF + 0x10000 + 0x1000 * (next_rx++ % NRX), 2048, true };
		drv_add(0, &rx, 1);
	}
	drv_kick(0);
	frame[0] = 0x02; /* to the guest's MAC */
	memcpy(frame + 1, "\x76\x6d\x6d\x00\x01", 5);
	assert_int_equal(sendto(s, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)),
			 sizeof(frame));
	int fd = proc_fd_find("/dev/net/tun", NULL);
	assert_true(fd >= 0);
	p.fd = fd;
	assert_int_equal(poll(&p, 1, 2000), 1);
	bool found = false;
	for (int tries = 0; tries < 20 && !found; tries++) {
		/* The tap's fd, and its resume eventfd after a pause. */
		vmm_harness_fd_trigger(F->h, fd, VMM_FD_READ);
		proc_fd_find("anon_inode:[eventfd]", trigger);
		while (drv_get_used(0, &id, &len)) {
			if (len == HDR + sizeof(frame))
				for (unsigned b = 0; b < NRX && !found; b++)
					found = memcmp(gpa_ptr(VDEV_BUF + 0x10000 + 0x1000 * b + HDR), frame,
						       sizeof(frame)) == 0;
			if (!found) {
				/* something else: post a fresh buffer */
				rx = (struct drv_buf){ VDEV_BUF + 0x10000 + 0x1000 * (next_rx++ % NRX), 2048,
						       true };
				drv_add(0, &rx, 1);
				drv_kick(0);
			}
		}
		if (!found)
			poll(&p, 1, 200);
	}
	assert_true(found);
	close(s);
	fixture_teardown(state);
}

/* net-tap's rtnetlink socket: the one AF_NETLINK socket among our fds. */
static int netlink_fd;

static void note_netlink(int fd)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK)
		netlink_fd = fd;
}

static void ip_link(const char *how)
{
	char cmd[80];

	snprintf(cmd, sizeof(cmd), "ip link set %s %s", ifname, how);
	assert_int_equal(system(cmd), 0);
}

/* Hand net-tap its rtnetlink messages until it reports @up (bounded: the
 * kernel sends RTM_NEWLINK at once; a lost one would show as a failure). */
static void wait_link(bool up)
{
	struct pollfd p = { .fd = netlink_fd, .events = POLLIN };

	for (int tries = 0; tries < 20 && vmm_harness_net_link_state(F->h, "tap0") != up; tries++) {
		if (poll(&p, 1, 2000) == 1)
			vmm_harness_fd_trigger(F->h, netlink_fd, VMM_FD_READ);
	}
	assert_int_equal(vmm_harness_net_link_state(F->h, "tap0"), up);
}

static void test_tap_link(void **state)
{
	const char *bprops[2] = { NULL, NULL };
	char prop[40];

	snprintf(prop, sizeof(prop), "ifname=%s", ifname);
	bprops[0] = prop;
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	assert_int_equal(vmm_harness_add_backend(F->h, "tap0", "net-tap", bprops), 0);
	/* tap.sh set the tap up: net-tap read that at open. */
	assert_int_equal(vmm_harness_net_link_state(F->h, "tap0"), 1);
	static const char *const dprops[] = { "net=tap0", NULL };
	assert_non_null(drv_create("virtio-net", dprops));
	/* VERSION_1, MAC, STATUS */
	assert_int_equal(drv_init(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(5) | VIRTIO_BIT(16), 2,
				  16),
			 DRV_STATUS_LIVE);
	netlink_fd = -1;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			note_netlink(atoi(e->d_name));
	if (d)
		closedir(d);
	assert_true(netlink_fd >= 0);
	uint64_t status = VDEV_BASE + VIRTIO_MMIO_CONFIG + 6;
	assert_int_equal(vmm_harness_mmio_read(F->h, status, 2), 1);
	uint32_t gen = vr(VIRTIO_MMIO_CONFIG_GENERATION);

	/* Down, then up: each a new status, a config-change interrupt and a
	 * new generation. */
	for (unsigned up = 0; up < 2; up++) {
		ip_link(up ? "up" : "down");
		wait_link(up);
		assert_int_equal(vmm_harness_mmio_read(F->h, status, 2), up);
		assert_int_equal(irq(), 1);
		assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_CONFIG);
		assert_int_equal(vr(VIRTIO_MMIO_CONFIG_GENERATION), gen + 1 + up);
	}
	fixture_teardown(state);
}

/* ---- standby (ABI 1.17): a live migration's destination on the host ---- */

static const char *mq_ifname; /* a multi-queue tap (tap.sh), argv[2] */

/* The tap's attached queues: the kernel keeps its real TX queue count at
 * the number attached (tun_set_real_num_queues), and sysfs lists that
 * many tx-N.  (A detached queue's fd still names the tap in its fdinfo.) */
static unsigned attached_queues(const char *name)
{
	char path[80];
	unsigned n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	DIR *d = opendir(path);
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, "tx-", 3) == 0;
	closedir(d);
	return n;
}

/* A UDP/IPv4 frame to a guest MAC from source port @port: frames of other
 * flows hash apart, so two attached queues would share them. */
static size_t udp_frame(uint8_t *f, uint16_t port)
{
	memset(f, 0, 60);
	memcpy(f, "\x02\x76\x6d\x6d\x00\x02", 6);
	memcpy(f + 6, "\x02\x76\x6d\x6d\x00\x09", 6);
	f[12] = 0x08; /* IPv4 */
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[3] = 28;    /* total length: 20 + 8 */
	ip[8] = 64;    /* TTL */
	ip[9] = 17;    /* UDP */
	memcpy(ip + 12, "\x0a\x00\x02\x01\x0a\x00\x02\x0f", 8);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	uint8_t *udp = ip + 20;
	udp[0] = (uint8_t)(port >> 8);
	udp[1] = (uint8_t)port;
	udp[2] = 0x27; /* to port 10000 */
	udp[3] = 0x10;
	udp[5] = 8;
	return 60;
}

/* The frames of this test's source MAC waiting on the tun fd (read with
 * the vnet header the plugin set), taken off it. */
static unsigned ours_on(int fd)
{
	uint8_t buf[2048];
	unsigned n = 0;
	ssize_t len;

	while ((len = read(fd, buf, sizeof(buf))) > 0)
		if (len >= (ssize_t)(HDR + 14) && memcmp(buf + HDR + 6, "\x02\x76\x6d\x6d\x00\x09", 6) == 0)
			n++;
	return n;
}

/* Our frames on queues a and b until want have come: a packet socket's
 * frames reach the tap through its qdisc, which on a loaded host may send
 * them later from a softirq (seen in CI: 10 of 32 at the first read).
 * Five seconds bound the wait (a hang guard); the counts are the test. */
static void ours_until(int a, int b, unsigned want, unsigned *na, unsigned *nb)
{
	*na = *nb = 0;
	for (int i = 0; i < 5000 && *na + *nb < want; i++) {
		*na += ours_on(a);
		*nb += ours_on(b);
		if (*na + *nb < want)
			usleep(1000);
	}
}

static void test_tap_standby(void **state)
{
	char prop[40];
	const char *bprops[2] = { prop, NULL };

	if (!mq_ifname) {
		print_message("skipped: no multi-queue tap named (tap-check TAP MQ-TAP)\n");
		skip();
	}
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	/* The source's queue, then the destination's on the same tap. */
	snprintf(prop, sizeof(prop), "ifname=%s", mq_ifname);
	assert_int_equal(vmm_harness_add_backend(F->h, "src", "net-tap", bprops), 0);
	int src_fd = proc_fd_find("/dev/net/tun", NULL);
	assert_int_equal(vmm_harness_add_backend(F->h, "dst", "net-tap", bprops), 0);
	int dst_fd = proc_fd_find("/dev/net/tun", NULL);
	assert_int_not_equal(src_fd, dst_fd);
	assert_int_equal(attached_queues(mq_ifname), 2);
	assert_int_equal(vmm_harness_net_standby(F->h, "dst", true), 0);
	assert_int_equal(attached_queues(mq_ifname), 1);
	assert_int_equal(vmm_harness_net_standby(F->h, "dst", true), 0); /* again: no change */
	assert_int_equal(attached_queues(mq_ifname), 1);

	/* In standby every frame goes to the source's queue, whatever its
	 * flow: 32 flows would have split over two attached queues. */
	unsigned ifindex = if_nametoindex(mq_ifname);
	assert_true(ifindex > 0);
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(s >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = (int)ifindex };
	uint8_t frame[64];
	ours_on(src_fd);
	for (uint16_t port = 40000; port < 40032; port++) {
		size_t len = udp_frame(frame, port);
		assert_int_equal(sendto(s, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)len);
	}
	unsigned to_src, to_dst;
	ours_until(src_fd, dst_fd, 32, &to_src, &to_dst);
	assert_int_equal(to_src, 32);
	assert_int_equal(to_dst, 0);

	/* Loaded: attached again and watched; frames now reach it too. */
	assert_int_equal(vmm_harness_net_standby(F->h, "dst", false), 0);
	assert_int_equal(attached_queues(mq_ifname), 2);
	for (uint16_t port = 40000; port < 40032; port++) {
		size_t len = udp_frame(frame, port);
		assert_int_equal(sendto(s, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)), (ssize_t)len);
	}
	ours_until(src_fd, dst_fd, 32, &to_src, &to_dst);
	assert_int_equal(to_src + to_dst, 32);
	assert_true(to_dst > 0);
	close(s);
	fixture_teardown(state);
}

/* Without standby the destination could not open the tap at all: a
 * single-queue tap takes one fd (what the standby op exists for). */
static void test_tap_single_queue_busy(void **state)
{
	char prop[40];
	const char *bprops[2] = { prop, NULL };

	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	snprintf(prop, sizeof(prop), "ifname=%s", ifname);
	assert_int_equal(vmm_harness_add_backend(F->h, "one", "net-tap", bprops), 0);
	assert_int_equal(vmm_harness_add_backend(F->h, "two", "net-tap", bprops), -EBUSY);
	/* standby on a single-queue tap only stops the watch */
	assert_int_equal(vmm_harness_net_standby(F->h, "one", true), 0);
	assert_int_equal(attached_queues(ifname), 1);
	assert_int_equal(vmm_harness_net_standby(F->h, "one", false), 0);
	fixture_teardown(state);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_frames),
		cmocka_unit_test(test_tap_link),
		cmocka_unit_test(test_tap_standby),
		cmocka_unit_test(test_tap_single_queue_busy),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s TAP-IFNAME [MULTI-QUEUE-TAP-IFNAME]\n", argv[0]);
		return 2;
	}
	ifname = argv[1];
	mq_ifname = argc > 2 ? argv[2] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
