/* tests/harness/harness-load.c - create one device from PLUGIN (a name or a
 * NAME.so path) in a fresh harness: exit 0 when it is created, 1 when not,
 * with the harness's one line on stderr.  parity.sh compares that line with
 * what vmmctl says of the same file. */
#include <stdio.h>
#include <vmm/harness.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: harness-load PLUGIN\n");
		return 2;
	}
	struct vmm_harness *h = vmm_harness_new();
	if (!h)
		return 2;
	int status = vmm_harness_create_device(h, argv[1], "dut", NULL) ? 0 : 1;
	vmm_harness_free(h);
	return status;
}
