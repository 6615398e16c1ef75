import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Approval, ApprovalRequest, DecideResult } from '../../core/chat/approvals.js';
import type { Envelope } from '../../core/chat/types.js';
import { LocalAdapter } from '../../platforms/local/adapter.js';
import { ApprovalDesk, ApprovalRequests, Approvers } from '../../orchestrator/approvals/index.js';
import type { ApprovalStore } from '../../orchestrator/approvals/store.js';
import { createLogger } from '../../core/log.js';
import { RecordingOutbox } from '../tools/recording-outbox.js';

const approvers = new Approvers([
  { id: 'jeff', local: 'jeffrey', telegram: 111, approver: true },
  { id: 'bob', approver: true },
  { id: 'alice', local: 'alice', telegram: 222, approver: false },
]);

function approvalFor(req: ApprovalRequest, over: Partial<Approval> = {}): Approval {
  const now = new Date('2025-03-01T12:00:00Z');
  return {
    id: 'k7m2x',
    toolCallId: req.toolCallId,
    thread: req.thread,
    platform: req.platform,
    persona: req.persona,
    tool: req.tool,
    args: req.args,
    reason: req.reason,
    risk: req.risk,
    status: 'pending',
    requestedAt: now,
    expiresAt: new Date(now.getTime() + 3_600_000),
    runId: req.runId,
    inboundId: req.inboundId,
    ...over,
  };
}

const req = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  toolCallId: 'call_1',
  thread: 'local:ops',
  platform: 'local',
  persona: 'hephaestus',
  tool: 'ssh_run',
  args: { host: 'staging-1' },
  risk: 'infra',
  runId: 'run-1',
  inboundId: 'in-1',
  ttlMinutes: 60,
  ...over,
});

describe('ApprovalRequests: the approval port the tool guard asks', () => {
  // Direct threads come from the adapters themselves (ChannelAdapter.directThreadId), as the outbox resolves them.
  const local = new LocalAdapter(undefined as never);
  const outboxFor = () => new RecordingOutbox({ local: (u) => local.directThreadId(u), telegram: (u) => `telegram:${u}` });
  const store = (status: Approval['status'] = 'pending') => ({
    request: async (r: ApprovalRequest) => approvalFor(r, { status }),
    get: async () => undefined,
  });

  test('a pending request is posted where the call was made and to each approver privately, with the card', async () => {
    const outbox = outboxFor();
    const port = new ApprovalRequests({ store: store(), approvers, outbox });
    assert.equal(port.hasApprovers(), true);
    const approval = await port.request(req());
    assert.equal(approval.id, 'k7m2x');
    assert.deepEqual(
      outbox.sent.map((m) => [m.idempotencyKey, m.platform, m.threadId, m.replyTo ?? null, m.card?.approvalId]),
      [
        ['approval:k7m2x', 'local', 'local:ops', 'in-1', 'k7m2x'],
        // The local chat reaches a person in dm-<registry id>, whatever name they type under.
        ['approval:k7m2x:dm:jeff', 'local', 'local:dm-jeff', null, 'k7m2x'],
        ['approval:k7m2x:dm:bob', 'local', 'local:dm-bob', null, 'k7m2x'],
      ],
    );
    assert.match(outbox.sent[0]!.text, /^Approval needed \[k7m2x\]: hephaestus wants to run ssh_run/);
    assert.equal(outbox.sent[1]!.text, `${outbox.sent[0]!.text}\n(asked in local:ops)`);
  });

  test('on other platforms each approver is reached by their own user id there; no DM where it is the same thread or none can be opened', async () => {
    const outbox = outboxFor();
    await new ApprovalRequests({ store: store(), approvers, outbox }).request(req({ platform: 'telegram', thread: 'telegram:111' }));
    assert.deepEqual(
      outbox.sent.map((m) => [m.idempotencyKey, m.threadId]),
      [['approval:k7m2x', 'telegram:111']],
      'jeff is asked in this very chat; bob has no Telegram id; alice is no approver',
    );

    const quiet = outboxFor();
    await new ApprovalRequests({ store: store(), approvers, outbox: quiet }).request(req({ platform: 'mattermost', thread: 'mattermost:town:root' }));
    assert.deepEqual(
      quiet.sent.map((m) => m.threadId),
      ['mattermost:town:root'],
      'no adapter that opens direct threads: the thread only',
    );
  });

  test('an answered request is returned as it is, and nothing is posted again', async () => {
    const outbox = outboxFor();
    const approval = await new ApprovalRequests({ store: store('approved'), approvers, outbox }).request(req());
    assert.equal(approval.status, 'approved');
    assert.equal(outbox.calls, 0);
  });

  test('nobody to ask when no human is an approver', () => {
    assert.equal(new ApprovalRequests({ store: store(), approvers: new Approvers([{ id: 'carol', approver: false }]), outbox: outboxFor() }).hasApprovers(), false);
  });
});

describe('ApprovalDesk.answer: approve / deny from the chat', () => {
  const envelope = (text: string, author: string, threadId = 'local:ops'): Envelope => ({
    id: `in-${Math.random()}`,
    platform: 'local',
    threadId,
    author: { id: author, name: author },
    text,
    receivedAt: new Date(0).toISOString(),
  });
  function desk(approval: Approval | undefined, decide: DecideResult) {
    const decisions: unknown[] = [];
    const drained: string[] = [];
    const store = { get: async () => approval, decide: async () => decide } as unknown as ApprovalStore;
    const d = new ApprovalDesk({
      store,
      approvers,
      audit: {
        recordDecision: async (r) => {
          decisions.push([r.actor, r.outcome]);
        },
      },
      outbox: new RecordingOutbox(),
      drain: async (t) => {
        drained.push(t);
      },
      logger: createLogger({ level: 'silent' }),
    });
    return { d, decisions, drained };
  }
  const pending = approvalFor(req());

  test('an approver decides: recorded, audited, and a thread paused elsewhere is drained', async () => {
    const { d, decisions, drained } = desk(pending, { ok: true, approval: { ...pending, status: 'approved', decidedBy: 'jeff' } });
    assert.equal(await d.answer({ action: 'approve', id: 'k7m2x' }, envelope('approve k7m2x', 'jeffrey', 'local:dm-jeff')), 'Approved by jeff: hephaestus may run ssh_run (k7m2x).');
    assert.deepEqual(decisions, [['jeff', 'approved']]);
    assert.deepEqual(drained, ['local:ops']);
  });

  test('a deny with a reason; in the paused thread itself no extra drain is asked for', async () => {
    const { d, decisions, drained } = desk(pending, { ok: true, approval: { ...pending, status: 'denied', decidedBy: 'jeff' } });
    assert.equal(
      await d.answer({ action: 'deny', id: 'k7m2x', note: 'not today' }, envelope('deny k7m2x not today', 'jeffrey')),
      'Denied by jeff: hephaestus will not run ssh_run (k7m2x): not today.',
    );
    assert.deepEqual(decisions, [['jeff', 'denied_by_human']]);
    assert.deepEqual(drained, []);
  });

  test('a non-approver is refused and audited; unknown and stale ids are said so', async () => {
    const refused = desk(pending, { ok: false, reason: 'unknown' });
    assert.equal(await refused.d.answer({ action: 'approve', id: 'k7m2x' }, envelope('approve k7m2x', 'alice')), 'alice is not an approver, so k7m2x stays open. Approvers: jeff, bob.');
    assert.deepEqual(refused.decisions, [['alice', 'refused_not_approver']]);
    assert.equal(await desk(undefined, { ok: false, reason: 'unknown' }).d.answer({ action: 'approve', id: 'zzzzz' }, envelope('approve zzzzz', 'jeffrey')), 'There is no approval request zzzzz.');
    const stale = desk(pending, { ok: false, reason: 'already_decided', approval: { ...pending, status: 'denied', decidedBy: 'bob' } });
    assert.equal(await stale.d.answer({ action: 'approve', id: 'k7m2x' }, envelope('approve k7m2x', 'jeffrey')), 'k7m2x was not changed: it was already denied by bob.');
    assert.deepEqual(stale.drained, []);
  });
});
