import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope } from '../../core/chat/types.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { loadPersonas } from '../../core/config/load-personas.js';
import { PersonaRegistry } from '../../personas/registry.js';
import { Ingress } from '../../orchestrator/ingress.js';
import { routeBatch, type RouterConfig } from '../../orchestrator/router.js';

const { personas } = await loadPersonas({ env: {} });
const cfg = (over: Partial<RouterConfig> = {}): RouterConfig => ({
  personas: new PersonaRegistry(personas),
  bindings: [
    { channel: 'mattermost:ops', persona: 'hephaestus' },
    { channel: 'local:ops', persona: 'hephaestus' },
  ],
  knownHumans: ['jeff'],
  orchestratorPlatforms: new Set(['local', 'telegram']),
  ...over,
});
const env = (text: string, over: Partial<Envelope> = {}): Envelope => ({
  id: `e-${Math.random()}`,
  platform: 'local',
  threadId: 'local:general',
  author: { id: 'alice', name: 'alice' },
  text,
  receivedAt: '',
  ...over,
});

describe('routeBatch: deterministic, first match wins', () => {
  it('mentions: every mentioned persona, in order of first mention across the batch', () => {
    const r = routeBatch(cfg(), [env('@hermes look'), env('@apollo and @hermes again')]);
    assert.deepEqual(r, { personas: ['hermes', 'apollo'], unknown: [], reason: 'mention' });
  });
  it('a mention wins over a binding; unknown names are reported, known humans are not', () => {
    const r = routeBatch(cfg(), [env('@apollo @zeus @jeff deploy', { threadId: 'local:ops' })]);
    assert.deepEqual(r, { personas: ['apollo'], unknown: ['zeus'], reason: 'mention' });
  });
  it("a direct message to a persona's handle, or the local dm-<persona> conversation", () => {
    assert.deepEqual(routeBatch(cfg(), [env('hi', { platform: 'mattermost', threadId: 'mattermost:dm1', directTo: 'perseus' })]).personas, ['perseus']);
    assert.deepEqual(routeBatch(cfg(), [env('hi', { threadId: 'local:dm-artemis' })]).personas, ['artemis']);
    assert.equal(routeBatch(cfg(), [env('hi', { threadId: 'local:dm-jeff' })]).reason, 'orchestrator', "a human's dm is not a persona's");
  });
  it('event targets (GitHub assignee, reviewer) route without any text', () => {
    const r = routeBatch(cfg(), [env('issue assigned', { platform: 'github', threadId: 'gh:acme/api#12', targets: ['apollo', 'nobody'] })]);
    assert.deepEqual(r, { personas: ['apollo'], unknown: [], reason: 'event' });
  });
  it('bindings by binding key or thread id', () => {
    assert.deepEqual(routeBatch(cfg(), [env('restart it', { platform: 'mattermost', threadId: 'mattermost:ch1:root1', bindingKey: 'mattermost:ops' })]).personas, ['hephaestus']);
    assert.deepEqual(routeBatch(cfg(), [env('restart it', { threadId: 'local:ops' })]).personas, ['hephaestus']);
  });
  it('orchestrator conversations go to the supervisor; other platforms with nobody addressed get no answer', () => {
    assert.deepEqual(routeBatch(cfg(), [env("what's in flight?")]), { personas: ['pantheon'], unknown: [], reason: 'orchestrator' });
    assert.deepEqual(routeBatch(cfg(), [env('chatter', { platform: 'mattermost', threadId: 'mattermost:town-square:1' })]), { personas: [], unknown: [], reason: 'none' });
  });
  it('only unknown mentions: nobody answers but the notice', () => {
    assert.deepEqual(routeBatch(cfg(), [env('@zeus hello')]), { personas: [], unknown: ['zeus'], reason: 'none' });
  });
});

describe('Ingress', () => {
  it('ignores messages written by bots (personas never re-trigger themselves) without touching the database', async () => {
    const pool = {
      query: () => {
        throw new Error('must not be called');
      },
    } as never;
    const queue = {
      add: () => {
        throw new Error('must not be called');
      },
    } as never;
    const ingress = new Ingress({ pool, queue, metrics: createMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
    const result = await ingress.accept(env('@apollo echo', { author: { id: 'apollo-bot', name: 'apollo', isBot: true } }));
    assert.deepEqual(result.accepted, false);
  });
});
