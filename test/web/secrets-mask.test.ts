import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskConfig } from '../../web/secrets-mask.js';

describe('the settings view masks credentials, not settings', () => {
  const known = new Set(['sk-live-123']);
  const isSecret = (text: string) => known.has(text);

  it('strings under credential keys, known secrets anywhere and URL passwords are masked', () => {
    const masked = maskConfig(
      {
        channels: { telegram: { token: '123:abc', allowedChatIds: [42] }, slack: { signingSecret: 's', mode: 'socket' } },
        models: { providers: { local: { apiKey: 'k', baseUrl: 'http://u:pw@127.0.0.1:11434/v1' } } },
        notes: 'sk-live-123',
        handles: [{ token: 't1' }],
      },
      isSecret,
    );
    assert.deepEqual(masked, {
      channels: { telegram: { token: '***', allowedChatIds: [42] }, slack: { signingSecret: '***', mode: 'socket' } },
      models: { providers: { local: { apiKey: '***', baseUrl: 'http://u:***@127.0.0.1:11434/v1' } } },
      notes: '***',
      handles: [{ token: '***' }],
    });
  });

  it('numbers and booleans under keys that merely mention tokens or credentials are shown as they are', () => {
    const masked = maskConfig(
      { server: { limits: { streamsPerCredential: 4 } }, orchestrator: { budget: { dailyTokens: 500000 } }, memory: { recallTokenBudget: 1500 }, sandbox: { secretsVisible: false } },
      () => false,
    );
    assert.deepEqual(masked, {
      server: { limits: { streamsPerCredential: 4 } },
      orchestrator: { budget: { dailyTokens: 500000 } },
      memory: { recallTokenBudget: 1500 },
      sandbox: { secretsVisible: false },
    });
  });
});
