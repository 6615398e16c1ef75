import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pantheonConfigSchema } from '../../core/config/schema.js';
// The platforms' fields of humans:, as `pantheon` registers them.
import '../../cli/platforms.js';
import { APPROVAL_ID_PATTERN, Approvers, approvalCard, formatApprovalRequest, newApprovalId, parseApprovalCommand, type Approval } from '../../orchestrator/approvals/index.js';

describe('parseApprovalCommand', () => {
  const cases: Array<[string, ReturnType<typeof parseApprovalCommand>]> = [
    ['approve k7m2x', { action: 'approve', id: 'k7m2x' }],
    ['  APPROVE   K7M2X  ', { action: 'approve', id: 'k7m2x' }],
    ['deny k7m2x', { action: 'deny', id: 'k7m2x' }],
    ['deny k7m2x not on a Friday', { action: 'deny', id: 'k7m2x', note: 'not on a Friday' }],
    ['Deny k7m2x: too risky\nlet us talk', { action: 'deny', id: 'k7m2x', note: 'too risky\nlet us talk' }],
    ['/approve k7m2x', { action: 'approve', id: 'k7m2x' }],
    ['/deny K7M2X', { action: 'deny', id: 'k7m2x' }],
    ['/approve@pantheon_bot k7m2x', { action: 'approve', id: 'k7m2x' }],
    ['/deny@PantheonBot k7m2x later', { action: 'deny', id: 'k7m2x', note: 'later' }],
    ['approve #k7m2x.', { action: 'approve', id: 'k7m2x' }],
    ['approve 4242', { action: 'approve', id: '4242' }],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseApprovalCommand(text), expected));
  }

  for (const text of ['approve', 'approve this', 'approve it please', 'I approve k7m2x', 'please deny k7m2x', 'approvek7m2x', 'approve k7', '@apollo approve k7m2x', '']) {
    test(`not a command: ${JSON.stringify(text)}`, () => assert.equal(parseApprovalCommand(text), null));
  }

  test('generated ids are short, from the unambiguous alphabet, and parse back', () => {
    for (let i = 0; i < 200; i++) {
      const id = newApprovalId();
      assert.match(id, /^[2-9a-hjkmnp-z]{5}$/);
      assert.ok(APPROVAL_ID_PATTERN.test(id));
      assert.deepEqual(parseApprovalCommand(`approve ${id.toUpperCase()}`), { action: 'approve', id });
    }
  });
});

describe('Approvers', () => {
  const { humans } = pantheonConfigSchema.parse({
    humans: [
      { id: 'jeff', local: 'jeffrey', telegram: 123456789, mattermost: 'jeff.mm', slack: 'U0123', github: 'JeffGH', approver: true },
      { id: 'alice', mattermost: 'alice' },
      { id: 'bob', approver: true },
    ],
  });
  const approvers = new Approvers(humans);

  test('identifies people per platform', () => {
    assert.equal(approvers.identify('local', 'jeffrey')?.id, 'jeff');
    assert.equal(approvers.identify('local', 'bob')?.id, 'bob', 'local falls back to the registry id');
    assert.equal(approvers.identify('telegram', '123456789')?.id, 'jeff');
    assert.equal(approvers.identify('mattermost', 'jeff.mm')?.id, 'jeff');
    assert.equal(approvers.identify('slack', 'U0123')?.id, 'jeff');
    assert.equal(approvers.identify('github', 'jeffgh')?.id, 'jeff', 'GitHub logins are case-insensitive');
    assert.equal(approvers.identify('slack', 'u0123'), undefined, 'Slack ids are not');
    assert.equal(approvers.identify('mattermost', 'jeff'), undefined, 'a registry id is not a Mattermost name');
    assert.equal(approvers.identify('discord', 'jeff'), undefined);
  });

  test('only listed approvers approve; unknown identities never do', () => {
    assert.equal(approvers.isApprover('local', 'jeffrey'), true);
    assert.equal(approvers.isApprover('local', 'bob'), true);
    assert.equal(approvers.isApprover('mattermost', 'alice'), false);
    assert.equal(approvers.isApprover('local', 'mallory'), false);
    assert.equal(approvers.isApprover('local', 'jeff.mm'), false);
    assert.deepEqual(
      approvers.list().map((h) => h.id),
      ['jeff', 'bob'],
    );
  });
});

describe('formatApprovalRequest and the card', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  const approval: Approval = {
    id: 'k7m2x',
    toolCallId: 'call_1',
    thread: 'local:general',
    platform: 'local',
    persona: 'hephaestus',
    tool: 'ssh_run',
    args: { host: 'staging-1', command: 'systemctl restart api', password: '***', log: 'x'.repeat(1000) },
    reason: 'the API is stuck after the deploy',
    risk: 'infra',
    status: 'pending',
    requestedAt: now,
    expiresAt: new Date('2025-03-02T12:00:00Z'),
  };

  test('shows the id, persona, tool, masked and truncated arguments, reason, how to answer, and expiry', () => {
    const text = formatApprovalRequest(approval, now);
    assert.match(text, /^Approval needed \[k7m2x\]: hephaestus wants to run ssh_run \(risk: infra\)\./);
    assert.match(text, /Arguments: \{"host":"staging-1","command":"systemctl restart api","password":"\*\*\*","log":"x+…\n/);
    assert.ok(text.split('\n')[1]!.length <= 'Arguments: '.length + 400);
    assert.match(text, /Reason: the API is stuck after the deploy/);
    assert.match(text, /Answer "approve k7m2x" or "deny k7m2x \[reason\]"\./);
    assert.match(text, /Expires in 24h 0m \(2025-03-02 12:00 UTC\)/);
  });

  test('the card carries the same facts and two actions, with the text as fallback', () => {
    const card = approvalCard(approval, now);
    assert.equal(card.approvalId, 'k7m2x');
    assert.deepEqual(
      card.actions.map((a) => a.id),
      ['approve', 'deny'],
    );
    assert.deepEqual(
      card.fields.map((f) => f.label),
      ['Persona', 'Tool', 'Risk', 'Arguments', 'Reason', 'Expires'],
    );
    assert.equal(card.fallbackText, formatApprovalRequest(approval, now));
  });
});
