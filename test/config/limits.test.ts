import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../core/config/index.js';
import { tempProject } from './project.js';

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups) c();
});

function project(yaml: string): string {
  const p = tempProject({ 'pantheon.yaml': yaml });
  cleanups.push(p.cleanup);
  return p.dir;
}

async function configError(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigError> {
  try {
    await loadConfig({ cwd: project(yaml), env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('the configuration was accepted');
}

describe('server.limits', () => {
  it('defaults to the limits the HTTP surface was built with', async () => {
    const { config } = await loadConfig({ cwd: project('{}\n'), env: {} });
    assert.deepEqual(config.server.limits, {
      webhookBodyKb: { github: 25 * 1024, slack: 1024, telegram: 1024, mattermost: 64 },
      unverifiedBodyBudgetMb: 64,
      memoryImportMb: 512,
      streamsPerCredential: 64,
      streamsTotal: 1024,
    });
  });

  it('takes each key, the unset ones keeping their defaults, numbers from variables included', async () => {
    const yaml = 'server:\n  limits:\n    webhookBodyKb: { slack: 256 }\n    memoryImportMb: 100\n    streamsPerCredential: "${STREAMS}"\n    streamsTotal: 10\n';
    const { config } = await loadConfig({ cwd: project(yaml), env: { STREAMS: '2' } });
    assert.deepEqual(config.server.limits, {
      webhookBodyKb: { github: 25 * 1024, slack: 256, telegram: 1024, mattermost: 64 },
      unverifiedBodyBudgetMb: 64,
      memoryImportMb: 100,
      streamsPerCredential: 2,
      streamsTotal: 10,
    });
  });

  const refused: [string, string, RegExp][] = [
    ['server:\n  limits: { streamsPerCredential: 0 }\n', 'server.limits.streamsPerCredential', /^must be more than 0, got 0$/],
    ['server:\n  limits: { streamsTotal: 1.5 }\n', 'server.limits.streamsTotal', /^expected int, got 1\.5$/],
    ['server:\n  limits: { memoryImportMb: "lots" }\n', 'server.limits.memoryImportMb', /^expected a number, got "lots"$/],
    ['server:\n  limits: { webhookBodyKb: { github: -1 } }\n', 'server.limits.webhookBodyKb.github', /^must be more than 0, got -1$/],
    ['server:\n  limits: { webhookBodyKb: { gitlab: 10 } }\n', 'server.limits.webhookBodyKb.gitlab', /^unknown key .*; allowed here: github, slack, telegram, mattermost$/],
    ['server:\n  limits: { streamsPerCredentials: 10 }\n', 'server.limits.streamsPerCredentials', /^unknown key \(did you mean "streamsPerCredential"\?\)/],
    // A budget smaller than one body of a route's limit would refuse such bodies forever.
    [
      'server:\n  limits: { unverifiedBodyBudgetMb: 16 }\n',
      'server.limits.unverifiedBodyBudgetMb',
      /^must hold at least one body of the largest webhook limit \(webhookBodyKb\.github: 25600 KB\).*raise it to 25 or lower webhookBodyKb\.github$/,
    ],
    ['server:\n  limits: { streamsPerCredential: 100, streamsTotal: 50 }\n', 'server.limits.streamsPerCredential', /^must be at most streamsTotal \(50\)$/],
  ];
  for (const [yaml, field, problem] of refused) {
    it(`${field}: a bad value is refused naming the file and the field (${JSON.stringify(yaml.split('\n')[1]!.trim())})`, async () => {
      const err = await configError(yaml);
      assert.equal(err.path, field, err.message);
      assert.match(err.problem, problem);
      assert.match(err.message, new RegExp(`^pantheon\\.yaml: ${field.replace(/[.[\]]/g, '\\$&')}: `));
    });
  }

  it('a smaller budget is fine once the webhook limits fit in it', async () => {
    const yaml = 'server:\n  limits:\n    unverifiedBodyBudgetMb: 8\n    webhookBodyKb: { github: 8192 }\n';
    const { config } = await loadConfig({ cwd: project(yaml), env: {} });
    assert.equal(config.server.limits.unverifiedBodyBudgetMb, 8);
  });
});
