import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { credentialOf, StreamSlots } from '../../platforms/local/stream-slots.js';

type Taken = ReturnType<StreamSlots['take']>;

function held(slot: Taken): { release: () => void } {
  assert.ok('release' in slot, `expected a slot, got a refusal (${'refused' in slot ? slot.refused : ''})`);
  return slot;
}

describe('StreamSlots', () => {
  it('refuses a credential past its cap, while other credentials still get slots', () => {
    const slots = new StreamSlots(2, 100);
    held(slots.take('a'));
    held(slots.take('a'));
    assert.deepEqual(slots.take('a'), { refused: 'credential' });
    held(slots.take('b'));
    assert.equal(slots.open, 3);
  });

  it('refuses anyone past the process cap, saying which cap it was', () => {
    const slots = new StreamSlots(5, 3);
    held(slots.take('a'));
    held(slots.take('b'));
    held(slots.take('c'));
    assert.deepEqual(slots.take('d'), { refused: 'process' });
    assert.deepEqual(slots.take('a'), { refused: 'process' });
    assert.equal(slots.open, 3);
  });

  it('a released slot can be taken again, by its credential and for the process', () => {
    const slots = new StreamSlots(1, 2);
    const a = held(slots.take('a'));
    held(slots.take('b'));
    assert.deepEqual(slots.take('a'), { refused: 'credential' });
    assert.deepEqual(slots.take('c'), { refused: 'process' });
    a.release();
    assert.equal(slots.open, 1);
    held(slots.take('c')); // the process slot is free again
    a.release();
    assert.deepEqual(slots.take('a'), { refused: 'process' });
  });

  it('release is idempotent: a second call gives back nothing more', () => {
    const slots = new StreamSlots(2, 2);
    const first = held(slots.take('a'));
    held(slots.take('a'));
    first.release();
    first.release();
    first.release();
    assert.equal(slots.open, 1);
    held(slots.take('a'));
    // Had the repeated releases counted, a third slot would be given out here.
    assert.deepEqual(slots.take('a'), { refused: 'credential' });
    assert.deepEqual(slots.take('b'), { refused: 'process' });
  });

  it('every slot released: nothing is held for anyone', () => {
    const slots = new StreamSlots(3, 3);
    const taken = [held(slots.take('a')), held(slots.take('a')), held(slots.take('b'))];
    for (const s of taken) s.release();
    assert.equal(slots.open, 0);
    for (let i = 0; i < 3; i++) held(slots.take('a'));
  });
});

describe('credentialOf', () => {
  const request = (headers: Record<string, string>, ip = '127.0.0.1') => ({ headers, ip }) as unknown as FastifyRequest;

  it('counts by the credential presented, hashed, and by the address without one', () => {
    const token = 'Bearer secret-token-0123456789';
    const a = credentialOf(request({ authorization: token }, '10.0.0.1'));
    assert.equal(a, credentialOf(request({ authorization: token }, '10.0.0.2')), 'one token, one credential, wherever it comes from');
    assert.notEqual(a, credentialOf(request({ authorization: 'Bearer another' })));
    assert.ok(a.startsWith('cred:') && !a.includes('secret-token'), a);
    assert.equal(credentialOf(request({}, '10.0.0.9')), 'addr:10.0.0.9');
    assert.notEqual(credentialOf(request({ cookie: 'session=x' })), credentialOf(request({ cookie: 'session=y' })));
  });
});
