import { after, before, beforeEach } from 'node:test';
import { startFakeLLM, type FakeLLM } from '../fakes/llm/index.js';

/**
 * One scripted model server for a test file: started before its tests, cleared before each,
 * closed after. `use` receives it once it is listening.
 */
export function useFakeLLM(use: (fake: FakeLLM) => void): void {
  let fake: FakeLLM | undefined;
  before(async () => {
    fake = await startFakeLLM();
    use(fake);
  });
  after(async () => {
    await fake?.close();
  });
  beforeEach(() => fake?.clear());
}

/** Provider variables pointing both official SDKs at the fake. */
export function fakeProviderEnv(fake: FakeLLM): Record<string, string> {
  return {
    OPENAI_API_KEY: 'sk-test-openai',
    OPENAI_BASE_URL: fake.openaiBaseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
  };
}
