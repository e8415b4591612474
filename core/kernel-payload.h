/* SPDX-License-Identifier: MIT */
/*
 * core/kernel-payload.h - the compressed kernel inside an x86 bzImage,
 * decompressed by vmmctl instead of by the kernel's own decompressor.
 *
 * A bzImage carries vmlinux (an ELF) compressed, and a decompressor that
 * runs first in the guest.  On a slow or nested CPU that decompressor is
 * the largest single step before the kernel's own start (see the note in
 * README.md, "Booting a Debian kernel").  Every x86 Debian kernel is also a
 * PVH kernel (CONFIG_PVH: a XEN_ELFNOTE_PHYS32_ENTRY note in vmlinux), so
 * vmmctl can decompress the payload here and boot the ELF through PVH.
 */
#ifndef VMM_CORE_KERNEL_PAYLOAD_H
#define VMM_CORE_KERNEL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* The compression a payload starts with ("gzip", "xz", "lz4", "zstd",
 * "bzip2", "lzma", "lzo"), or NULL when none is recognised. */
const char *vmm_payload_codec(const uint8_t *payload, size_t len);

/* Whether this build of vmmctl decompresses `codec` itself. */
int vmm_payload_codec_built(const char *codec);

/* The payload of a bzImage (boot.rst: payload_offset at 0x248, counted
 * from the protected-mode code at setup_size, and payload_length at
 * 0x24c; boot protocol 2.08 and newer).  -ENOENT: an older protocol or no
 * payload; -EINVAL: the fields point outside the file (err says how). */
int vmm_bzimage_payload(const uint8_t *file, size_t len, uint16_t version, uint64_t setup_size,
			const uint8_t **payload, size_t *payload_len, char *err, size_t errlen);

/* Decompresses a kernel payload into a new buffer (free() it).  The
 * kernel's build appends the decompressed size as a 32-bit little-endian
 * number to every payload (gzip's own trailer holds the same); more than
 * `max_out` is refused.  -ENOTSUP: a codec this build does not have;
 * -E2BIG: larger than max_out; -EINVAL: corrupt (err says where). */
int vmm_payload_decompress(const uint8_t *payload, size_t len, uint64_t max_out, uint8_t **out,
			   size_t *out_len, char *err, size_t errlen);

#endif
