#!/usr/bin/env python3
# tests/fuzz/make-corpus.py - writes the seed corpora under tests/fuzz/corpus/:
# a few valid inputs per target (well-formed queues and requests) so that
# fuzzing starts deep inside the code instead of at the input checks.
# Run from anywhere; the output is committed.  See tests/fuzz/README.md.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
NEXT, WRITE, INDIRECT = 1, 2, 4
F_INDIRECT, F_EVENT_IDX = 1 << 28, 1 << 29


def desc(addr, length, flags=0, nxt=0):
    return struct.pack('<QIHH', addr, length, flags, nxt)


def put(ram, off, data):
    ram[off:off + len(data)] = data


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- fuzz_virtqueue: header, RAM image, driver writes ----
DESC, AVAIL, USED = 0x100, 0x300, 0x400


def vq_input(size_code, flags, descs, heads, pokes=b'', indirect=None):
    ram = bytearray(0x1000)
    for i, dsc in enumerate(descs):
        put(ram, DESC + 16 * i, dsc)
    put(ram, AVAIL, struct.pack('<HH', 0, len(heads)))
    for i, h in enumerate(heads):
        put(ram, AVAIL + 4 + 2 * i, struct.pack('<H', h))
    if indirect:
        off, table = indirect
        for i, dsc in enumerate(table):
            put(ram, off + 16 * i, dsc)
    hdr = struct.pack('<BBHHH', size_code, flags, DESC, AVAIL, USED)
    return hdr + bytes(ram) + pokes


write('fuzz_virtqueue', 'two-chains', vq_input(3, 0, [
    desc(0x800, 16, NEXT, 1), desc(0x900, 512, WRITE),
    desc(0xb00, 64, WRITE)], [0, 2]))
write('fuzz_virtqueue', 'indirect', vq_input(3, 1, [
    desc(0xc00, 48, INDIRECT)], [0], indirect=(0xc00, [
        desc(0x800, 16, NEXT, 1), desc(0x900, 256, WRITE | NEXT, 2),
        desc(0xa00, 1, WRITE)])))
# EVENT_IDX, then the driver offers a second chain with two writes.
write('fuzz_virtqueue', 'event-idx-refill', vq_input(3, 2, [
    desc(0x800, 16, NEXT, 1), desc(0x900, 512, WRITE), desc(0xa00, 8, WRITE)], [0],
    pokes=struct.pack('<HH', AVAIL + 6, 2) + struct.pack('<HH', AVAIL + 2, 2)))

# ---- fuzz_virtio_devices: config byte, commands ----
QD, QA = 0x1000, 0x2000


def ram(gpa, data):
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += struct.pack('<BHB', 2, gpa + i, len(chunk)) + chunk
    return out


def init(features, size_code=3):
    return struct.pack('<BIB', 6, features, size_code)


NOTIFY0 = struct.pack('<BB', 5, 0)
ACK, TIMERS = b'\x07', b'\x03'


def chains(chain_list, qd=QD, qa=QA):
    """chain_list: lists of (gpa, len, writable); returns RAM commands for
    the descriptor table (at qd) and an available ring (at qa) offering
    each chain."""
    table, heads, i = b'', [], 0
    for ch in chain_list:
        heads.append(i)
        for j, (gpa, length, w) in enumerate(ch):
            last = j == len(ch) - 1
            table += desc(gpa, length, (WRITE if w else 0) | (0 if last else NEXT), i + 1)
            i += 1
    avail = struct.pack('<HH', 0, len(heads)) + b''.join(struct.pack('<H', h) for h in heads)
    return ram(qd, table) + ram(qa, avail)


def blk_req(gpa, rtype, sector, data_gpa=None, data_len=0, write_data=None):
    hdr = ram(gpa, struct.pack('<IIQ', rtype, 0, sector))
    if write_data is not None:
        hdr += ram(data_gpa, write_data)
    return hdr


# virtio-blk: read, write, flush, get-id in one notification.
cmds = init(F_EVENT_IDX | (1 << 9))
cmds += blk_req(0x4000, 0, 1) + blk_req(0x4100, 1, 2, 0x6000, 512, bytes(range(256)) * 2)
cmds += blk_req(0x4200, 4, 0) + blk_req(0x4300, 8, 0)
cmds += chains([
    [(0x4000, 16, False), (0x5000, 512, True), (0x4010, 1, True)],
    [(0x4100, 16, False), (0x6000, 512, False), (0x4110, 1, True)],
    [(0x4200, 16, False), (0x4210, 1, True)],
    [(0x4300, 16, False), (0x7000, 20, True), (0x4310, 1, True)],
])
write('fuzz_virtio_devices', 'blk-rw-flush-id', b'\x00' + cmds + NOTIFY0 + ACK + TIMERS)

# virtio-blk with discard and write-zeroes on the disk, indirect negotiated.
cmds = init(F_INDIRECT | (1 << 13) | (1 << 14))
cmds += ram(0x4000, struct.pack('<IIQ', 11, 0, 0) + struct.pack('<QII', 4, 8, 0))
cmds += ram(0x4100, struct.pack('<IIQ', 13, 0, 0) + struct.pack('<QII', 16, 8, 1))
cmds += ram(0x8000, desc(0x4000, 32, NEXT, 1) + desc(0x4020, 1, WRITE))
cmds += ram(QD, desc(0x8000, 32, INDIRECT) + desc(0x4100, 32, NEXT, 2) + desc(0x4120, 1, WRITE))
cmds += ram(QA, struct.pack('<HHHH', 0, 2, 0, 1))
write('fuzz_virtio_devices', 'blk-discard-zeroes-indirect', b'\x30' + cmds + NOTIFY0 + ACK)

# virtio-blk, 2 queues, read-only: a refused write, register probing.
probe = b''.join(struct.pack('<BBI', 0, off // 4, 0) for off in (0x30,))
probe += b''.join(struct.pack('<BHI', 0x21, off, 0) for off in (0x0, 0x4, 0x8, 0x34, 0x100, 0x122))
cmds = probe + init(0) + blk_req(0x4000, 1, 0, 0x6000, 512, b'\xaa' * 512)
cmds += chains([[(0x4000, 16, False), (0x6000, 512, False), (0x4010, 1, True)]])
write('fuzz_virtio_devices', 'blk-ro-mq', b'\x06' + cmds + NOTIFY0 + ACK + struct.pack('<B', 4))

# virtio-rng: two requests, event index.
cmds = init(F_EVENT_IDX) + chains([[(0x4000, 64, True)], [(0x5000, 16, True), (0x5100, 16, True)]])
write('fuzz_virtio_devices', 'rng', b'\x01' + cmds + NOTIFY0 + ACK + TIMERS)

# ---- virtio-net (config bit 7, bit 0 clear) and virtio-console (bits 7, 0) ----
QD1, QA1 = 0x8000, 0x9000   # queue 1 (transmit) of both, set up by init()
NOTIFY1 = struct.pack('<BB', 5, 1)
F_NET_CSUM, F_NET_GUEST_CSUM, F_NET_HOST_TSO4 = 1 << 0, 1 << 1, 1 << 11
F_NET_MRG_RXBUF, F_CON_EMERG = 1 << 15, 1 << 2


def inject(length, data=b'', split=0):
    return struct.pack('<BHBB', 0x0b, length, split // 4, len(data)) + data


def net_hdr(flags=0, gso=0, hdr_len=0, gso_size=0, cstart=0, coff=0):
    return struct.pack('<BBHHHHH', flags, gso, hdr_len, gso_size, cstart, coff, 0)


ETH = bytes.fromhex('ffffffffffff' '020000000001' '88b5')

# TX: two frames, one a header and a frame split across descriptors, one
# with a partial checksum (CSUM negotiated, the backend does checksums).
cmds = init(F_NET_CSUM | F_EVENT_IDX)
cmds += ram(0x4000, net_hdr() + ETH + bytes(range(64)))
cmds += ram(0x4800, net_hdr(1, 0, 0, 0, 14, 6) + ETH + bytes(32))
cmds += chains([[(0x4000, 12, False), (0x400c, 78, False)], [(0x4800, 58, False)]], QD1, QA1)
write('fuzz_virtio_devices', 'net-tx', b'\x82' + cmds + NOTIFY1 + ACK + TIMERS)

# RX with mergeable buffers: a 1500-byte frame over three 600-byte buffers,
# then a second frame with too few buffers left (input pauses until the
# driver posts more and notifies the receive queue).
rx3 = [[(0x4000 + 0x400 * i, 600, True)] for i in range(3)]
cmds = init(F_NET_MRG_RXBUF | F_NET_GUEST_CSUM | F_NET_CSUM)
cmds += chains(rx3) + NOTIFY0
cmds += inject(1512, net_hdr() + ETH + b'mrg', split=12) + ACK
cmds += inject(1000, net_hdr(2) + ETH) + NOTIFY0
cmds += ram(QA, struct.pack('<HHHHHH', 0, 5, 0, 1, 2, 0)) + NOTIFY0 + ACK
write('fuzz_virtio_devices', 'net-rx-mrg', b'\xbe' + cmds)

# RX without mergeable buffers: one frame in a big buffer, one too big.
cmds = init(0) + chains([[(0x4000, 1600, True)], [(0x5000, 100, True)]]) + NOTIFY0
cmds += inject(600, net_hdr() + ETH + b'plain') + inject(1200, net_hdr() + ETH) + ACK
write('fuzz_virtio_devices', 'net-rx', b'\xc0' + cmds)

# console: output on the transmitq, input into two receive buffers, and
# an emergency write to config space (0x100 + 8).
cmds = init(F_CON_EMERG | F_EVENT_IDX)
cmds += ram(0x4000, b'hello, console\n') + ram(0x4100, b'second')
cmds += chains([[(0x4000, 15, False)], [(0x4100, 6, False)]], QD1, QA1) + NOTIFY1
cmds += chains([[(0x5000, 8, True)], [(0x5100, 64, True)]]) + NOTIFY0
cmds += inject(20, b'typed input 0123456') + ACK
cmds += struct.pack('<BBI', 0, 0x108 // 4, ord('!'))
write('fuzz_virtio_devices', 'console-io', b'\x81' + cmds + TIMERS)

# console with a second port (config bit 1: MULTIPORT): the control
# handshake as Linux does it (DEVICE_READY, PORT_READY for both ports,
# PORT_OPEN), then output and input on port 1 (queues 5 and 4), and a few
# hostile control messages (unknown event, port out of range, short).
F_CON_MULTIPORT = 1 << 1


def qbase(q):
    return 0xb000 + (q - 2) * 0x1000


def ctrl(port, event, value):
    return struct.pack('<IHH', port, event, value)


msgs = [ctrl(0, 0, 1), ctrl(0, 3, 1), ctrl(1, 3, 1), ctrl(0, 6, 1), ctrl(1, 6, 1),
        ctrl(1, 99, 1), ctrl(7, 3, 1)]
cmds = init(F_CON_MULTIPORT | F_CON_EMERG)
cmds += chains([[(0x4000 + 0x40 * i, 0x40, True)] for i in range(8)], qbase(2), qbase(2) + 0x800)
cmds += struct.pack('<BB', 5, 2)
cmds += ram(0x5000, b''.join(msgs) + b'shrt')
cmds += chains([[(0x5000 + 8 * i, 8, False)] for i in range(len(msgs))] + [[(0x5000 + 8 * len(msgs), 4, False)]],
               qbase(3), qbase(3) + 0x800)
cmds += struct.pack('<BB', 5, 3) + ACK
cmds += ram(0x6000, b'to port one')
cmds += chains([[(0x6000, 11, False)]], qbase(5), qbase(5) + 0x800) + struct.pack('<BB', 5, 5)
cmds += chains([[(0x6100, 32, True)]], qbase(4), qbase(4) + 0x800) + struct.pack('<BB', 5, 4)
cmds += inject(9, b'to guest', split=4) + ACK
write('fuzz_virtio_devices', 'console-multiport', b'\x83' + cmds + TIMERS)

# ---- fuzz_boot_*: flags byte (bit 0: a command line), then the kernel file ----
# Valid images of each format, small, so fuzzing starts past the magic and
# header checks.  RAM is 4 MiB (tests/fuzz/fuzz_boot.c).
CMDLINE = 1


def elf32(entry, segs, desc8=False):
    """An x86 ELF32: PT_NOTE with the PVH entry note, then one PT_LOAD per
    (paddr, data, memsz) in segs, the data 16-byte aligned after the headers."""
    phnum = 1 + len(segs)
    note_off = 52 + 32 * phnum
    desc = struct.pack('<Q' if desc8 else '<I', entry)
    note = struct.pack('<III', 4, len(desc), 18) + b'Xen\0' + desc
    body = bytearray(note)
    phdrs = struct.pack('<IIIIIIII', 4, note_off, 0, 0, len(note), len(note), 4, 4)
    for paddr, data, memsz in segs:
        while (note_off + len(body)) % 16:
            body.append(0)
        off = note_off + len(body)
        body += data
        phdrs += struct.pack('<IIIIIIII', 1, off, paddr, paddr, len(data), memsz, 5, 16)
    ehdr = (b'\x7fELF' + bytes([1, 1, 1]) + bytes(9) +
            struct.pack('<HHIIIIIHHHHHH', 2, 3, 1, entry, 52, 0, 0, 52, 32, phnum, 40, 0, 0))
    return ehdr + phdrs + bytes(body)


def elf64(entry, segs):
    phnum = 1 + len(segs)
    note_off = 64 + 56 * phnum
    note = struct.pack('<III', 4, 4, 18) + b'Xen\0' + struct.pack('<I', entry)
    body = bytearray(note)
    phdrs = struct.pack('<IIQQQQQQ', 4, 4, note_off, 0, 0, len(note), len(note), 4)
    for paddr, data, memsz in segs:
        while (note_off + len(body)) % 16:
            body.append(0)
        off = note_off + len(body)
        body += data
        phdrs += struct.pack('<IIQQQQQQ', 1, 5, off, paddr, paddr, len(data), memsz, 16)
    ehdr = (b'\x7fELF' + bytes([2, 1, 1]) + bytes(9) +
            struct.pack('<HHIQQQIHHHHHH', 2, 62, 1, entry, 64, 0, 0, 64, 56, phnum, 64, 0, 0))
    return ehdr + phdrs + bytes(body)


CODE = b'\xb0\x10\xe6\xf4\xf4'  # mov al,0x10; out 0xf4,al; hlt
write('fuzz_boot_pvh', 'elf32-one-segment', b'\0' + elf32(0x100000, [(0x100000, CODE, 0x1000)]))
write('fuzz_boot_pvh', 'elf32-two-segments-cmdline', bytes([CMDLINE]) + elf32(
    0x100010, [(0x100000, b'\x90' * 16 + CODE, 0x2000), (0x200000, b'data', 0x100)], desc8=True))
write('fuzz_boot_pvh', 'elf64-one-segment', b'\0' + elf64(0x180000, [(0x180000, CODE, 0x800)]))


def bzimage(cmdline_size=2047, payload=CODE + bytes(0x200 - len(CODE))):
    """A protocol 2.15 bzImage: 4 setup sectors, 64-bit entry, relocatable,
    preferred at 1 MiB with init_size 1 MiB (Documentation/arch/x86/boot.rst)."""
    setup = bytearray(5 * 512)
    setup[0x1f1] = 4
    struct.pack_into('<I', setup, 0x1f4, len(payload) // 16)     # syssize
    struct.pack_into('<H', setup, 0x1fe, 0xaa55)                 # boot_flag
    setup[0x200:0x202] = bytes([0xeb, 0x268 - 0x202])          # jump: header end
    setup[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', setup, 0x206, 0x020f)
    setup[0x211] = 1                                             # LOADED_HIGH
    struct.pack_into('<I', setup, 0x22c, 0x37ffffff)             # initrd_addr_max
    struct.pack_into('<I', setup, 0x230, 0x200000)               # kernel_alignment
    setup[0x234] = 1                                             # relocatable
    struct.pack_into('<H', setup, 0x236, 1)                      # XLF_KERNEL_64
    struct.pack_into('<I', setup, 0x238, cmdline_size)
    struct.pack_into('<Q', setup, 0x258, 0x100000)               # pref_address
    struct.pack_into('<I', setup, 0x260, 0x100000)               # init_size
    return bytes(setup) + payload


write('fuzz_boot_bzimage', 'bzimage', b'\0' + bzimage())
write('fuzz_boot_bzimage', 'bzimage-cmdline', bytes([CMDLINE]) + bzimage())
write('fuzz_boot_bzimage', 'bzimage-short-cmdline-size', bytes([CMDLINE]) + bzimage(cmdline_size=4))

write('fuzz_boot_flat', 'exit', b'\0' + CODE)
write('fuzz_boot_flat', 'exit-at-7c00', b'\4' + CODE)
