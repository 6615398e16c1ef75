import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../core/config/index.js';
import { clockFromEnv } from '../../core/clock/index.js';
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

async function problem(yaml: string): Promise<string> {
  try {
    await loadConfig({ cwd: project(yaml), env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message.split('\n')[0]!;
  }
  assert.fail('the configuration was accepted');
}

const standUp = (extra: string) => `schedules:\n  - { name: stand-up, persona: athena, thread: "local:standup", prompt: "Post the stand-up.", ${extra} }\n`;

describe('schedules: and humans[].notify in pantheon.yaml', () => {
  it('a stand-up in Berlin time loads with its defaults', async () => {
    const { config } = await loadConfig({ cwd: project(standUp('cron: "0 9 * * 1-5", timezone: Europe/Berlin')), env: {} });
    assert.deepEqual(config.schedules, [
      { name: 'stand-up', cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', persona: 'athena', thread: 'local:standup', prompt: 'Post the stand-up.', missed: 'once', enabled: true, resolved: true },
    ]);
  });

  it('says what is wrong, naming the field', async () => {
    assert.equal(await problem(standUp('cron: "0 0 9 * * 1-5"')), 'pantheon.yaml: schedules[0].cron: expected five fields "minute hour day-of-month month day-of-week" such as "0 9 * * 1-5", got 6');
    assert.match(await problem(standUp('cron: "0 25 * * *"')), /^pantheon\.yaml: schedules\[0\]\.cron: not a cron expression \(.*\); e\.g\. "0 9 \* \* 1-5" is 09:00 on weekdays$/);
    assert.equal(
      await problem(standUp('cron: "0 9 * * *", timezone: Europe/Berlinn')),
      'pantheon.yaml: schedules[0].timezone: expected an IANA time zone such as Europe/Berlin, America/New_York or UTC',
    );
    assert.equal(await problem(standUp('cron: "0 9 * * *", every: 5m')), 'pantheon.yaml: schedules[0].cron: give either cron (e.g. "0 9 * * 1-5") or every (e.g. "5m"), not both or neither');
    assert.match(
      await problem('schedules:\n  - { name: s, cron: "0 9 * * *", persona: zeus, thread: "local:x", prompt: "p" }\n'),
      /^pantheon\.yaml: schedules\[0\]\.persona: no persona named "zeus"; the team is: /,
    );
    assert.match(
      await problem('schedules:\n  - { name: s, cron: "0 9 * * *", persona: athena, thread: "irc:general", prompt: "p" }\n'),
      /^pantheon\.yaml: schedules\[0\]\.thread: expected "<platform>:<channel>"/,
    );
    assert.equal(
      await problem('schedules:\n  - { name: x, cron: "* * * * *", thread: "local:ops", runbook: nope }\n'),
      'pantheon.yaml: schedules[0].runbook: no runbook named "nope" in infra.runbooks; runbooks: none',
    );
    assert.equal(
      await problem('humans:\n  - { id: ann, notify: { via: [irc] } }\n'),
      'pantheon.yaml: humans[0].notify.via[0]: expected a platform a person can be reached on: local, mattermost, slack, discord, telegram, github',
    );
    assert.equal(
      await problem('humans:\n  - { id: ann, notify: { quietHours: { from: "22:00", to: "7am" } } }\n'),
      'pantheon.yaml: humans[0].notify.quietHours.to: expected a time of day "HH:MM" such as 22:00, got "7am"',
    );
  });

  it('infra.schedule still runs, as schedules, with a notice saying how to move it', async () => {
    const { config, notices } = await loadConfig({
      cwd: project('infra:\n  schedule:\n    - { name: api-up, every: 5m, channel: "local:ops", check: { kind: http, url: "https://api.example.com/healthz" } }\n'),
      env: {},
    });
    assert.deepEqual(config.schedules, [
      { name: 'api-up', every: '5m', timezone: 'UTC', thread: 'local:ops', check: { kind: 'http', url: 'https://api.example.com/healthz' }, resolved: true, missed: 'once', enabled: true },
    ]);
    assert.match(notices.join('\n'), /infra\.schedule is deprecated \(its checks still run\): move each check to schedules:, e\.g\. - \{ name: api-up, every: "5m", thread: "local:ops"/);
  });

  it('PANTHEON_TEST_CLOCK: a start instant (optionally anchored); refused in production and when malformed', () => {
    const anchored = clockFromEnv({ PANTHEON_TEST_CLOCK: `2026-03-02T08:00:00Z@${Date.now() + 60_000}` });
    assert.equal(anchored.controlled, true);
    assert.ok(Math.abs(anchored.now().getTime() - Date.parse('2026-03-02T07:59:00Z')) < 1000);
    assert.equal(clockFromEnv({}).controlled, false);
    assert.throws(() => clockFromEnv({ PANTHEON_TEST_CLOCK: '2026-03-02T08:00:00Z', NODE_ENV: 'production' }), /PANTHEON_TEST_CLOCK: is for tests and is refused with NODE_ENV=production/);
    assert.throws(() => clockFromEnv({ PANTHEON_TEST_CLOCK: 'tomorrow' }), /expected an ISO time/);
  });
});
