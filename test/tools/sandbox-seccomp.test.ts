/**
 * The sandbox's seccomp filter, run through a small classic-BPF interpreter: what it answers for
 * each architecture, syscall and flag. (test/tools/sandbox.test.ts checks it in the real kernel.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARCHES, hostArch, seccompFilter } from '../../tools/sandbox/seccomp.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

/** Runs the filter on seccomp_data { nr, arch, ip, args[0] }. */
function verdict(prog: Buffer, arch: number, nr: number, arg0 = 0): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  data.writeUInt32LE(arg0 >>> 0, 16);
  let a = 0;
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) a = data.readUInt32LE(k);
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else throw new Error(`unknown opcode ${code}`);
  }
  throw new Error('fell off the end of the filter');
}

test('new user namespaces are refused; other clones and unshares are not', () => {
  for (const [name, a] of Object.entries(ARCHES)) {
    const prog = seccompFilter(name as keyof typeof ARCHES);
    assert.equal(prog.length % 8, 0);
    assert.equal(verdict(prog, a.audit, a.unshare, 0x10000000), EPERM, 'unshare(CLONE_NEWUSER)');
    assert.equal(verdict(prog, a.audit, a.unshare, 0x10000000 | 0x20000), EPERM, 'unshare(CLONE_NEWUSER|CLONE_NEWNS)');
    assert.equal(verdict(prog, a.audit, a.clone, 0x10000000 | 17), EPERM, 'clone(CLONE_NEWUSER)');
    assert.equal(verdict(prog, a.audit, a.clone, 17), ALLOW, 'fork');
    assert.equal(verdict(prog, a.audit, a.clone, 0x3d0f00), ALLOW, 'a thread');
    assert.equal(verdict(prog, a.audit, a.unshare, 0x20000), ALLOW, 'unshare(CLONE_NEWNS) (refused later for want of capabilities)');
    assert.equal(verdict(prog, a.audit, a.clone3), ENOSYS, 'clone3: libc falls back to clone');
    for (const nr of a.refused) assert.equal(verdict(prog, a.audit, nr), EPERM, `syscall ${nr}`);
    for (const nr of [0, 1, 2, 59, 60, 231]) if (![a.unshare, a.clone, a.clone3, ...a.refused].includes(nr)) assert.equal(verdict(prog, a.audit, nr), ALLOW, `syscall ${nr}`);
  }
});

test('only the native ABI gets through: x32, i386 (int 0x80) on x86_64 and 32-bit ARM on arm64 answer ENOSYS to everything', () => {
  const x86 = seccompFilter('x86_64');
  assert.equal(verdict(x86, ARCHES.x86_64.audit, 0x40000000 + 272, 0x10000000), ENOSYS);
  assert.equal(verdict(x86, 0x40000003 /* i386 */, 310 /* unshare */, 0x10000000), ENOSYS);
  assert.equal(verdict(x86, 0x40000003, 20 /* getpid */), ENOSYS);
  assert.equal(verdict(x86, ARCHES.aarch64.audit, 97, 0x10000000), ENOSYS, 'another 64-bit ABI too');
  const arm = seccompFilter('aarch64');
  assert.equal(verdict(arm, 0x40000028 /* arm */, 337 /* unshare */, 0x10000000), ENOSYS);
  assert.equal(verdict(arm, ARCHES.aarch64.audit, 172 /* getpid */), ALLOW);
  assert.equal(hostArch('x64'), 'x86_64');
  assert.equal(hostArch('arm64'), 'aarch64');
  assert.equal(hostArch('ppc64'), undefined);
});
