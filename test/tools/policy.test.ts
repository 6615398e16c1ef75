import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policySchema } from '../../core/config/policy.js';
import { decide } from '../../tools/policy.js';

const team = policySchema.parse({
  risk: { read: 'allow', write: 'allow', destructive: 'ask', infra: 'ask' },
  tools: { github_merge_pull_request: 'deny', post_message: 'ask' },
});
const merge = { name: 'github_merge_pull_request', risk: 'destructive' as const };
const post = { name: 'post_message', risk: 'write' as const };
const read = { name: 'github_read_file', risk: 'read' as const };
const ssh = { name: 'ssh_run', risk: 'infra' as const };

test('team risk classes apply when nothing more specific does', () => {
  assert.equal(decide(read, team), 'allow');
  assert.equal(decide(ssh, team), 'ask');
  assert.equal(decide({ name: 'delete_branch', risk: 'destructive' }, team), 'ask');
});

test('the defaults of an empty policy: read and write run, destructive and infra ask', () => {
  const empty = policySchema.parse({});
  assert.deepEqual(
    (['read', 'write', 'destructive', 'infra'] as const).map((risk) => decide({ name: 'x', risk }, empty)),
    ['allow', 'allow', 'ask', 'ask'],
  );
});

test('a team rule for a tool beats the team rule for its risk', () => {
  assert.equal(decide(merge, team), 'deny');
  assert.equal(decide(post, team), 'ask');
});

test("a persona's risk override beats the team's risk rule, not the team's tool rule", () => {
  const persona = { risk: { destructive: 'allow' as const, write: 'deny' as const } };
  assert.equal(decide({ name: 'delete_branch', risk: 'destructive' }, team, persona), 'allow');
  assert.equal(decide(merge, team, persona), 'deny', 'team tool rule wins over persona risk rule');
  assert.equal(decide(post, team, persona), 'ask', 'team tool rule wins over persona risk rule');
  assert.equal(decide({ name: 'github_comment', risk: 'write' }, team, persona), 'deny');
});

test("a persona's tool override beats everything", () => {
  const persona = { tools: { github_merge_pull_request: 'ask' as const, post_message: 'allow' as const }, risk: { write: 'deny' as const } };
  assert.equal(decide(merge, team, persona), 'ask');
  assert.equal(decide(post, team, persona), 'allow');
});

test('tool names that are Object.prototype keys do not match the prototype', () => {
  assert.equal(decide({ name: 'constructor', risk: 'read' }, team, {}), 'allow');
  assert.equal(decide({ name: 'toString', risk: 'infra' }, team, { tools: {} }), 'ask');
});
