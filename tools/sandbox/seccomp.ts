/**
 * A seccomp filter for sandboxed commands (bubblewrap's `--seccomp`), as classic BPF built here:
 * no libseccomp, no compiler. It refuses what a build or a test suite never needs and kernel
 * exploits often start from: new user namespaces (`unshare`/`clone` with CLONE_NEWUSER; `clone3`,
 * whose flags a filter cannot read, answers ENOSYS so libc falls back to `clone`), the kernel
 * keyring, eBPF, userfaultfd and perf events. Everything else is allowed: the namespaces,
 * the missing capabilities and the read-only mounts do the rest. Only the host's own native ABI
 * gets through: the x32 ABI and every other architecture's entry point (i386's `int 0x80` on an
 * x86_64 kernel, 32-bit ARM on arm64), whose syscall numbers the checks would not know, answer
 * ENOSYS to every call.
 */

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JSET_K = 0x45;
const JGE_K = 0x35;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

const CLONE_NEWUSER = 0x10000000;
const X32_SYSCALL_BIT = 0x40000000;

/** Offsets in struct seccomp_data. */
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16; // little-endian: the low 32 bits of args[0]

interface Arch {
  audit: number;
  unshare: number;
  clone: number;
  clone3: number;
  refused: number[];
  x32?: boolean;
}

/** Syscall numbers by architecture (keyctl, add_key, request_key, bpf, perf_event_open, userfaultfd). */
export const ARCHES: Record<'x86_64' | 'aarch64', Arch> = {
  x86_64: { audit: 0xc000003e, unshare: 272, clone: 56, clone3: 435, refused: [250, 248, 249, 321, 298, 323], x32: true },
  aarch64: { audit: 0xc00000b7, unshare: 97, clone: 220, clone3: 435, refused: [219, 217, 218, 280, 241, 282] },
};

type Insn = { code: number; k: number; jt?: string; jf?: string; label?: string };

/** This host's architecture as the filter knows it, or undefined (then no filter is installed). */
export function hostArch(arch: string = process.arch): keyof typeof ARCHES | undefined {
  return arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : undefined;
}

/** The filter as bytes: `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k), little-endian. */
export function seccompFilter(arch: keyof typeof ARCHES): Buffer {
  const p: Insn[] = [];
  const at = (label: string) => p.push({ code: -1, k: 0, label });
  p.push({ code: LD_W_ABS, k: ARCH });
  p.push({ code: JEQ_K, k: ARCHES[arch].audit, jt: arch });
  p.push({ code: RET_K, k: RET_ERRNO | ENOSYS }); // any other ABI: nothing at all
  for (const [name, a] of Object.entries(ARCHES).filter(([n]) => n === arch)) {
    at(name);
    p.push({ code: LD_W_ABS, k: NR });
    if (a.x32) p.push({ code: JGE_K, k: X32_SYSCALL_BIT, jt: 'enosys' });
    p.push({ code: JEQ_K, k: a.clone3, jt: 'enosys' });
    p.push({ code: JEQ_K, k: a.unshare, jt: 'flags' });
    p.push({ code: JEQ_K, k: a.clone, jt: 'flags' });
    for (const nr of a.refused) p.push({ code: JEQ_K, k: nr, jt: 'eperm' });
    p.push({ code: RET_K, k: RET_ALLOW });
  }
  at('flags');
  p.push({ code: LD_W_ABS, k: ARG0_LOW });
  p.push({ code: JSET_K, k: CLONE_NEWUSER, jt: 'eperm' });
  p.push({ code: RET_K, k: RET_ALLOW });
  at('eperm');
  p.push({ code: RET_K, k: RET_ERRNO | EPERM });
  at('enosys');
  p.push({ code: RET_K, k: RET_ERRNO | ENOSYS });

  // Resolve labels to relative jumps (a jump skips jt/jf instructions after the next one).
  const code = p.filter((i) => i.code !== -1);
  const where = new Map<string, number>();
  let n = 0;
  for (const i of p) {
    if (i.code === -1) where.set(i.label!, n);
    else n++;
  }
  const buf = Buffer.alloc(code.length * 8);
  code.forEach((i, idx) => {
    const rel = (label?: string) => {
      if (!label) return 0;
      const off = where.get(label)! - idx - 1;
      if (off < 0 || off > 255) throw new Error(`seccomp: jump to ${label} out of range`);
      return off;
    };
    buf.writeUInt16LE(i.code, idx * 8);
    buf.writeUInt8(rel(i.jt), idx * 8 + 2);
    buf.writeUInt8(rel(i.jf), idx * 8 + 3);
    buf.writeUInt32LE(i.k >>> 0, idx * 8 + 4);
  });
  return buf;
}
