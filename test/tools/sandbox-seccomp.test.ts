/**
 * The sandbox's seccomp filter, run through a small classic-BPF interpreter: what it answers for
 * each architecture, syscall and flag. (test/tools/sandbox.test.ts checks it in the real kernel.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ARCHES, seccompFilter } from '../../tools/sandbox/seccomp.js';

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
  const prog = seccompFilter();
  assert.equal(prog.length % 8, 0);
  for (const a of Object.values(ARCHES)) {
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

test('the x32 ABI is refused on x86_64; an unknown architecture is left to the namespaces', () => {
  const prog = seccompFilter();
  assert.equal(verdict(prog, ARCHES.x86_64.audit, 0x40000000 + 272, 0x10000000), ENOSYS);
  assert.equal(verdict(prog, 0x40000003 /* i386 */, 310), ALLOW);
});
