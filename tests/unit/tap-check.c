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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_frames),
		cmocka_unit_test(test_tap_link),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s TAP-IFNAME\n", argv[0]);
		return 2;
	}
	ifname = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
