import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalCard, PlatformAdapter, OutboundMessage } from '../../core/chat/types.js';
import { missing, type Capability } from './capability.js';

/** A message as the platform shows it to people. */
export interface ShownMessage {
  id: string;
  /** The visible text (markup as the platform keeps it; hidden markers removed). */
  text: string;
  /** Buttons drawn with it, each as the answer it stands for: `approve <id>`, `deny <id>`. */
  buttons: string[];
}

/** One platform's adapter talking to its fake, as the contract suites drive it. */
export interface OutboundPlatform {
  adapter: PlatformAdapter;
  /** A thread to post into; the suite leaves it to itself. */
  threadId: string;
  /** Everything in that thread, oldest first. */
  messages(): Promise<ShownMessage[]>;
  /** A new adapter for the same platform, account and database, as after a crash and restart: its memory is gone. */
  restarted(): Promise<PlatformAdapter>;
  /** The platform answers the next message post 429 with `Retry-After: <seconds>` (where it has rate limits). */
  rateLimitNext?(seconds: number): void;
  /** The platform refuses the rich form (buttons, blocks, HTML) of the next card (where it draws cards). */
  refuseNextCard?(): void;
  /**
   * The platform fails (with an error the adapter does not retry itself) on part `index` of the
   * next message, once: the earlier parts are posted, the call throws, as when a post dies midway.
   */
  failNextPart?(index: number): void;
}

export interface OutboundCapabilities {
  /**
   * A post repeated with the same idempotency key by a fresh adapter (the process crashed after
   * the platform took it, before the outbox recorded it) posts nothing new. Missing: the suite
   * checks that it does post again, so the declaration stays true.
   */
  postOnceAfterRestart: Capability;
  /** A post that failed midway, repeated with the same key (the outbox's retry), posts every part once. */
  resumeAfterFailure: Capability;
  /** `edit` replaces a posted message's text in place. */
  edit: Capability;
  /** Approval cards are drawn with approve/deny buttons. Missing: as text that says how to answer. */
  buttons: Capability;
  /** A card the platform refuses is posted as its text alone, once. */
  cardFallback: Capability;
  /** Text longer than the platform's `limit` is split into parts within it, in order, nothing lost. */
  split: { limit: number } | { missing: string };
  /** A 429 with Retry-After is waited out, then the message is posted once. */
  retryAfter: Capability;
}

const approvalId = 'ab12';
const card: ApprovalCard = {
  approvalId,
  title: `Approval needed [${approvalId}]: hephaestus wants to run ssh_exec`,
  fields: [
    { label: 'Tool', value: 'ssh_exec' },
    { label: 'Host', value: 'staging-1' },
  ],
  actions: [
    { id: 'approve', label: 'Approve' },
    { id: 'deny', label: 'Deny' },
  ],
  fallbackText: `Approval needed [${approvalId}]: hephaestus wants to run ssh_exec. Answer approve ${approvalId} or deny ${approvalId}.`,
};

/**
 * The outbound contract every adapter passes, against its platform's fake: a post is
 * idempotent by key (after a simulated crash too), edits replace in place, an approval card has
 * buttons and a text that says how to answer (and falls back to that text), long text is split,
 * and a 429 with Retry-After is waited out. `setup` builds the adapter as the platform's module
 * does; each capability the platform lacks is declared, with the reason, in `capabilities`.
 */
export function outboundContract(platform: string, capabilities: OutboundCapabilities, setup: () => Promise<{ platform: OutboundPlatform; close(): Promise<void> }>): void {
  describe(`${platform}: the outbound contract`, () => {
    let p: OutboundPlatform;
    let close: () => Promise<void>;
    let n = 0;
    const message = (over: Partial<OutboundMessage>): OutboundMessage => ({
      idempotencyKey: `contract-${platform}-${Date.now()}-${n++}`,
      platform: platform,
      threadId: p.threadId,
      role: 'agent',
      persona: 'apollo',
      text: 'hello',
      ...over,
    });
    /** What appeared in the thread while `fn` ran. */
    const during = async (fn: () => Promise<unknown>): Promise<ShownMessage[]> => {
      const before = new Set((await p.messages()).map((m) => m.id));
      await fn();
      return (await p.messages()).filter((m) => !before.has(m.id));
    };

    before(async () => {
      ({ platform: p, close } = await setup());
    });
    after(async () => {
      await close?.();
    });

    const restartReason = missing(capabilities.postOnceAfterRestart);
    it(
      restartReason
        ? `a post repeated after a simulated crash and restart: declared missing (it posts again): ${restartReason}`
        : 'a post repeated by a fresh adapter after a simulated crash (posted, not yet recorded) posts nothing new',
      async () => {
        const m = message({ text: 'Pushed the branch; opening the PR.' });
        let first!: string;
        const posted = await during(async () => {
          first = (await p.adapter.post(m)).id;
        });
        assert.equal(posted.length, 1, 'one message');
        assert.equal(posted[0]!.id, first, 'the result names the platform message');
        const restarted = await p.restarted();
        let second!: string;
        const again = await during(async () => {
          second = (await restarted.post(m)).id;
        });
        if (restartReason) return assert.equal(again.length, 1, 'as declared, posted again (if this fails, the platform posts once after a restart now: declare it)');
        assert.deepEqual(again, [], 'nothing new posted');
        assert.equal(second, first, 'the repeat answers with the message already posted');
      },
    );

    const resumeReason = missing(capabilities.resumeAfterFailure);
    it(resumeReason ? `a post that failed midway: declared missing: ${resumeReason}` : 'a post that failed midway, repeated with the same key, posts every part once', async () => {
      if (resumeReason) return assert.equal(p.failNextPart, undefined, 'nothing can fail midway');
      const lines = Array.from({ length: 400 }, (_, i) => `step ${String(i).padStart(3, '0')} of the migration`);
      const limit = 'limit' in capabilities.split ? capabilities.split.limit : 4000;
      const text = Array.from({ length: Math.ceil((limit * 2.5) / (lines.join('\n').length + 1)) }, () => lines.join('\n')).join('\n');
      const m = message({ text });
      p.failNextPart!(1);
      const failed = await during(() => assert.rejects(p.adapter.post(m), 'the failure reaches the caller (the outbox retries)'));
      assert.equal(failed.length, 1, 'the first part was posted before the failure');
      let first!: string;
      const rest = await during(async () => {
        first = (await p.adapter.post(m)).id;
      });
      assert.ok(rest.length >= 2, 'the retry posts the parts not yet posted');
      assert.equal(first, failed[0]!.id, 'the result names the part posted by the first attempt');
      const steps = [...failed, ...rest]
        .flatMap((x) => x.text.split('\n'))
        .map((l) => /step \d{3} of the migration/.exec(l)?.[0])
        .filter(Boolean);
      assert.deepEqual(steps, text.split('\n'), 'every part once, in order');
    });

    const editReason = missing(capabilities.edit);
    it(editReason ? `edit: declared missing: ${editReason}` : 'edits a posted message in place', async () => {
      if (editReason) return assert.equal(p.adapter.edit, undefined, 'an adapter that declares no edit has none: the outbox posts anew');
      const first = await p.adapter.post(message({ text: 'deploy: 10%' }));
      const added = await during(() => p.adapter.edit!(p.threadId, first.id, message({ text: 'deploy: 100%' })));
      assert.deepEqual(added, [], 'nothing new posted');
      const edited = (await p.messages()).find((m) => m.id === first.id);
      assert.match(edited?.text ?? '', /deploy: 100%/);
      assert.doesNotMatch(edited!.text, /deploy: 10%/);
    });

    const buttonsReason = missing(capabilities.buttons);
    it(
      buttonsReason ? `approval card as text that says how to answer (no buttons: ${buttonsReason})` : 'draws an approval card with approve/deny buttons and a text that says how to answer',
      async () => {
        const posted = await during(() => p.adapter.post(message({ role: 'system', persona: undefined, text: card.fallbackText, card })));
        assert.equal(posted.length, 1, 'one message');
        assert.match(posted[0]!.text, new RegExp(`approve ${approvalId}`), 'the text says how to answer by typing');
        assert.deepEqual(posted[0]!.buttons, buttonsReason ? [] : [`approve ${approvalId}`, `deny ${approvalId}`]);
      },
    );

    const fallbackReason = missing(capabilities.cardFallback);
    it(fallbackReason ? `card fallback: declared missing: ${fallbackReason}` : 'a card the platform refuses is posted once, as its text', async () => {
      if (fallbackReason) return assert.equal(p.refuseNextCard, undefined, 'nothing to refuse');
      p.refuseNextCard!();
      const posted = await during(() => p.adapter.post(message({ role: 'system', persona: undefined, text: card.fallbackText, card })));
      assert.equal(posted.length, 1, 'one message');
      assert.match(posted[0]!.text, new RegExp(`approve ${approvalId}`), 'the text says how to answer by typing');
    });

    const split = capabilities.split;
    it('limit' in split ? `splits text longer than ${split.limit} characters in order, each part within it` : `long text: declared missing: ${split.missing}`, async () => {
      const limit = 'limit' in split ? split.limit : 4000;
      const lines = Array.from({ length: Math.ceil((limit * 2.5) / 28) }, (_, i) => `line ${String(i).padStart(5, '0')} of the deploy log`);
      let result!: string;
      const posted = await during(async () => {
        result = (await p.adapter.post(message({ text: lines.join('\n') }))).id;
      });
      if (!('limit' in split)) {
        assert.equal(posted.length, 1, 'stored whole');
        return assert.equal(posted[0]!.text, lines.join('\n'));
      }
      assert.ok(posted.length >= 3, `split into ${posted.length}`);
      assert.equal(posted[0]!.id, result, 'the result names the first part');
      for (const part of posted) assert.ok(part.text.length <= split.limit, `a part of ${part.text.length} characters`);
      const shown = posted
        .flatMap((m) => m.text.split('\n'))
        .map((l) => /line \d{5} of the deploy log/.exec(l)?.[0])
        .filter(Boolean);
      assert.deepEqual(shown, lines, 'every line once, in order');
    });

    const retryReason = missing(capabilities.retryAfter);
    it(retryReason ? `429: declared missing: ${retryReason}` : 'waits out a 429 with Retry-After, then posts once', async () => {
      if (retryReason) return assert.equal(p.rateLimitNext, undefined, 'nothing rate-limits it');
      p.rateLimitNext!(1);
      const started = Date.now();
      const posted = await during(() => p.adapter.post(message({ text: 'after the rate limit' })));
      const waited = Date.now() - started;
      assert.ok(waited >= 950, `waited ${waited} ms for Retry-After: 1`);
      assert.equal(posted.length, 1, 'posted once');
      assert.match(posted[0]!.text, /after the rate limit/);
    });
  });
}
